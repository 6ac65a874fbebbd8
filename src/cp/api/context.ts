import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import type { CpIdentity } from '../cp-state.js';
import type { Liveness } from '../liveness.js';
import type { Dispatcher } from '../dispatcher.js';
import type { RunWaiters } from '../run-waiters.js';
import type { StreamHub } from '../stream/stream-hub.js';
import type { TunnelHub } from '../tunnel/tunnel-hub.js';

/** What the API route handlers use. */
export interface ApiContext {
  store: Store;
  identity: CpIdentity;
  liveness: Liveness;
  dispatcher: Dispatcher;
  waiters: RunWaiters;
  stream: StreamHub;
  tunnels: TunnelHub;
  now: () => number;
  log: Logger;
  version: string;
}
