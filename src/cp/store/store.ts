import type { Logger } from 'pino';
import { pino } from 'pino';
import { openDatabase, type Db } from './database.js';
import { createStoreHealth } from './store-health.js';
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

/** The CP's embedded store (SQLite, WAL) with one repository per concept; `log` hears of store failures. */
export function openStore(path: string, opts: { log?: Logger } = {}) {
  const db: Db = openDatabase(path);
  const health = createStoreHealth(db, path, { log: opts.log ?? pino({ level: 'silent' }) });
  const runs = createRunsRepo(db);
  const feed = createFeedRepo(db);
  const metaGet = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?');
  const metaSet = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  return {
    db,
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
    meta: {
      get: (key: string): string | undefined => metaGet.get(key)?.value,
      set: (key: string, value: string): void => void metaSet.run(key, value),
    },
    /** Runs `fn` in one transaction; refused (OKS_ERR_STORE_REPLACED) once the database file was replaced under the CP. */
    transaction<T>(fn: () => T): T {
      if (!db.inTransaction) health.assertWritable();
      return db.transaction(fn)();
    },
    close(): void {
      db.close();
    },
  };
}
/** The CP store. */
export type Store = ReturnType<typeof openStore>;
