import { join } from 'node:path';
import { hostname as osHostname } from 'node:os';
import type { Logger } from 'pino';
import { openStore, type Store } from './store/store.js';
import { loadOrCreateIdentity, ensureAdminToken, assertStateComplete, type CpIdentity } from './cp-state.js';
import { loadTicketKeys, rotateTicketKeys } from './tls-tickets.js';
import type { CpBus } from './bus/cp-bus.js';
import { createLocalBus } from './bus/local-bus.js';
import { createNatsBus } from './bus/nats-bus.js';
import { busSecretFrom } from './bus/bus-signature.js';
import { readClusterKey } from './cluster/cluster-key.js';
import { loadOrCreateSharedIdentity } from './cluster/shared-identity.js';
import { rotateSharedTicketKeys } from './cluster/shared-ticket-keys.js';
import { ensureSharedAdminToken } from './cluster/shared-admin-token.js';
import type { TicketKeySource } from './http/cp-https-server.js';
import { OkesuError } from '../errors.js';

/** Where a CP's data, identity and messages live: one process's, or a cluster replica's. */
export interface CpFoundationOptions {
  stateDir: string;
  /** Absent: SQLite in the state directory; `postgres://…`: a cluster's shared store. */
  store?: string;
  /** `nats://…`: the cluster's bus (with a Postgres store). */
  bus?: string;
  replicaId?: string;
  clusterKeyFile?: string;
  sans?: readonly string[];
}

/** What a CP runs on. */
export interface CpFoundation {
  store: Store;
  identity: CpIdentity;
  bus: CpBus;
  /** True for a replica of a cluster (Postgres store, NATS bus). */
  cluster: boolean;
  tickets: TicketKeySource;
  /** Creates the first admin token if none exists; its text only for the one process that created it. */
  ensureAdminToken(now: number): string | undefined;
  /** Closes what was opened (bus, store). */
  close(): Promise<void>;
}

/** Replica ids name NATS subjects: the default (the machine's name) is made to fit. */
export function defaultReplicaId(): string {
  return osHostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64) || 'cp';
}

/**
 * Opens SQLite in the state directory with an in-process bus (one CP), or a cluster replica's shared Postgres store,
 * the identity sealed in it and the NATS bus. A failure closes whatever was opened before it.
 */
export async function openCpFoundation(options: CpFoundationOptions, deps: { log: Logger; now: () => number }): Promise<CpFoundation> {
  const { log } = deps;
  const replicaId = options.replicaId ?? defaultReplicaId();
  if (options.store === undefined) {
    if (options.bus !== undefined) throw new OkesuError('OKS_ERR_CONFIG', '--bus needs --store postgres://… (the replicas of a cluster share one store)');
    assertStateComplete(options.stateDir);
    const identity = await loadOrCreateIdentity(options.stateDir, options.sans ?? []);
    const store = openStore(join(options.stateDir, 'cp.db'), { log });
    const tickets = loadTicketKeys(options.stateDir, Date.now());
    const bus = createLocalBus(replicaId, log);
    return {
      store, identity, bus, cluster: false,
      tickets: { keys: tickets.keys, rotate: (srv) => rotateTicketKeys(srv, { stateDir: options.stateDir, createdAt: tickets.createdAt, now: Date.now, log }) },
      ensureAdminToken: (now) => ensureAdminToken(store, now),
      close: async () => {
        await bus.close();
        store.close();
      },
    };
  }
  if (options.bus === undefined || options.clusterKeyFile === undefined) {
    throw new OkesuError('OKS_ERR_CONFIG', '--store postgres://… runs a replica of a cluster: give --bus nats://… and --cluster-key-file too');
  }
  const clusterKey = readClusterKey(options.clusterKeyFile);
  const store = openStore(options.store, { log });
  try {
    const shared = await loadOrCreateSharedIdentity({ meta: store.meta, clusterKey, sans: options.sans ?? [], now: Date.now(), log, hostsRegistered: store.hosts.count() > 0 });
    // One NATS server may carry several clusters (tests do): subjects are named by the store's own cluster id.
    const clusterId = store.meta.setIfAbsent('cluster.id', `c${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`);
    const bus = await createNatsBus({ url: options.bus, cluster: clusterId, replicaId, secret: busSecretFrom(clusterKey.bytes), log: log.child({ component: 'bus' }) });
    return {
      store, identity: shared.identity, bus, cluster: true,
      tickets: { keys: shared.ticketKeys.keysAt(Date.now()), rotate: (srv) => rotateSharedTicketKeys(srv, { keys: shared.ticketKeys, now: Date.now, log }) },
      ensureAdminToken: (now) => ensureSharedAdminToken(store, store.meta, now),
      close: async () => {
        await bus.close();
        store.close();
      },
    };
  } catch (err) {
    store.close();
    throw err;
  }
}
