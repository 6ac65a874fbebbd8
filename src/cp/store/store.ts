import type { Logger } from 'pino';
import { pino } from 'pino';
import { openDatabase } from './database.js';
import { sqliteDb } from './sql/sqlite-db.js';
import { openPostgresDb } from './sql/postgres-db.js';
import type { SqlDb } from './sql/sql-db.js';
import { applyPostgresSchema } from './postgres-schema.js';
import { createServerStoreHealth, createStoreHealth, type StoreHealth } from './store-health.js';
import { createHostsRepo } from './hosts.js';
import { createTokensRepo } from './tokens.js';
import { createRunsRepo } from './runs.js';
import { createFindingsRepo } from './findings.js';
import { createFindingViews } from './finding-views.js';
import { createTriageRepo } from './triage.js';
import { createFeedRepo } from './feed.js';
import { createAuditRepo } from './audit.js';
import { createIngest } from './ingest.js';
import { createOrchestrationRepo } from '../orchestration/store.js';
import { createSshHostKeysRepo } from './ssh-host-keys.js';
import { createRolloutsRepo } from './rollouts.js';
import { createReplicasRepo } from './replicas.js';
import { createLeasesRepo } from './leases.js';
import { createMetaRepo } from './meta.js';
import { createNotifyRepo } from './notify.js';
import type { Store } from './store-contract.js';

/** Options of `openStore`. */
export interface OpenStoreOptions {
  /** Hears of store failures. */
  log?: Logger;
}

/** True when `location` names a PostgreSQL database rather than a SQLite file. */
export function isPostgresLocation(location: string): boolean {
  return /^postgres(ql)?:\/\//.test(location);
}

/**
 * Opens the CP's store: a path opens (creating and migrating) the embedded SQLite database (WAL); a `postgres://…`
 * URL connects to PostgreSQL and creates the schema there if the database has none yet.
 */
export function openStore(location: string, opts: OpenStoreOptions = {}): Store {
  const log = opts.log ?? pino({ level: 'silent' });
  if (isPostgresLocation(location)) {
    const db = openPostgresDb(location);
    try {
      applyPostgresSchema(db);
    } catch (err) {
      db.close();
      throw err;
    }
    return storeOn(db, createServerStoreHealth(db.displayUrl, { log }));
  }
  const raw = openDatabase(location);
  return storeOn(sqliteDb(raw), createStoreHealth(raw, location, { log }));
}

/** The repositories over one connection. */
function storeOn(db: SqlDb, health: StoreHealth): Store {
  const runs = createRunsRepo(db);
  const feed = createFeedRepo(db);
  return {
    db,
    kind: db.dialect,
    health,
    hosts: createHostsRepo(db),
    tokens: createTokensRepo(db),
    runs,
    findings: createFindingsRepo(db),
    findingViews: createFindingViews(db),
    triage: createTriageRepo(db),
    feed,
    audit: createAuditRepo(db),
    ingest: createIngest(db, runs, feed),
    orchestrations: createOrchestrationRepo(db),
    sshHostKeys: createSshHostKeysRepo(db),
    rollouts: createRolloutsRepo(db),
    replicas: createReplicasRepo(db),
    leases: createLeasesRepo(db),
    meta: createMetaRepo(db),
    notify: createNotifyRepo(db),
    transaction<T>(fn: () => T): T {
      if (!db.inTransaction) health.assertWritable();
      return db.transaction(fn)();
    },
    close(): void {
      db.close();
    },
  };
}

export type { Store };
