import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import type { CpIdentity } from '../cp-state.js';
import type { Liveness } from '../liveness.js';
import type { Dispatcher } from '../dispatcher.js';
import type { RunWaiters } from '../run-waiters.js';
import type { FeedWriter } from '../feed-writer.js';
import type { AgentLibrary } from '../agent-library.js';
import type { AuthFailures } from '../http/auth-failures.js';
import type { OperatorSessions } from '../http/operator-sessions.js';
import type { JobsMode } from '../jobs/jobs-mode.js';

/** What the API route handlers use. */
export interface ApiContext {
  store: Store;
  identity: CpIdentity;
  liveness: Liveness;
  dispatcher: Dispatcher;
  waiters: RunWaiters;
  /** Appends to the feed and publishes what was committed (the live stream, on every replica). */
  feed: FeedWriter;
  /** Closes a removed host's tunnel, on whichever replica holds it. */
  tunnels: { disconnect(hostname: string): void };
  /** The agent definitions the CP dispatches (`GET /v1/agents`). */
  agents: AgentLibrary;
  now: () => number;
  log: Logger;
  version: string;
  /** Failed registrations are logged, counted and limited per address here. */
  authFailures: AuthFailures;
  /** Live operator connections by token: revoking a token ends them. */
  sessions: OperatorSessions;
  /** Lifetime of the client certificates the CP issues (`cp serve --host-cert-ttl`; default 365 days). */
  hostCertTtlMs?: number;
  /** The release public keys registering hosts are told (`cp serve --release-key`). */
  releaseKeys?: readonly string[];
  /** Jobs mode, when the CP has a bucket: a removed host's bucket objects are deleted through it. */
  jobs?: Pick<JobsMode, 'forgetHost'>;
}
