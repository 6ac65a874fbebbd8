import type { DispatchEnvelope } from '../protocol/dispatch.js';
import type { EventRecord, RecordKey } from '../protocol/tunnel.js';
import type { UpgradeOrder, UpgradeReport } from '../protocol/rollout.js';

/**
 * Daimon side: how dispatches reach this host and how its events go back. The tunnel implements it
 * today; the S3 jobs bucket (SPEC §3.2) will implement it too, without the daimon changing shape.
 */
export interface DaimonTransport {
  /** Short name shown in `okesu hosts` (`tunnel`, `jobs`). */
  readonly name: string;
  /** Starts delivering; `handlers` receive what the CP sends. */
  start(handlers: DaimonTransportHandlers): void;
  /** Offers spooled records for delivery; acknowledged keys come back through `onAck`. May be called again with the same records after a reconnect. */
  send(records: readonly EventRecord[]): void;
  /**
   * Offers spooled records as the JSON lines the spool holds (each `JSON.stringify` of its record), so they need not
   * be parsed only to be serialised again; the same as `send(lines.map(JSON.parse))`. Optional: a sender falls back
   * to `send`.
   */
  sendLines?(lines: readonly string[]): void;
  /** Tells the CP whether a dispatch was accepted (it starts the run) or refused, and why. */
  ackDispatch(runId: string, accepted: boolean, error?: { code: string; message: string }): void;
  /** True when records offered now have a chance of being delivered soon. */
  isUp(): boolean;
  /**
   * Tells the CP how an upgrade is going (the tunnel's `upgrade_status` frame; a host-signed `out/` object in the
   * bucket, retried until written). Absent on a transport that cannot carry it yet.
   */
  reportUpgrade?(report: UpgradeReport): void;
  /** Stops and releases sockets and timers. */
  stop(): Promise<void>;
}

/** Callbacks a daimon transport drives. */
export interface DaimonTransportHandlers {
  onDispatch(envelope: DispatchEnvelope): void;
  onCancel(runId: string, reason: string): void;
  /** The CP ordered an upgrade (the tunnel's `upgrade` frame, or a CP-signed inbox object); each rollout is handed over once per transport. */
  onUpgrade?(order: UpgradeOrder): void;
  onAck(keys: readonly RecordKey[]): void;
  /** The CP's side was reached again while up (a bucket heartbeat written): what `health.json` records (issue 15). */
  onContact?(): void;
  /** The transport (re)connected: unacknowledged records should be offered again. */
  onUp(): void;
  onDown(reason: string): void;
  /** The CP refused this host for good (revoked); the daimon should stop and say why. */
  onFatal(code: string, message: string): void;
}

/** CP side: one way of reaching hosts with dispatches and cancels. */
export interface DispatchRoute {
  readonly name: string;
  /** True when this route can deliver to `hostname` now. */
  canReach(hostname: string): boolean;
  /** Why this route cannot deliver to `hostname` now (for the dispatcher's refusal), or undefined when it can. */
  whyNot(hostname: string): string | undefined;
  /** Sends the envelope; resolves once it was handed to the route (not when the run ends). */
  dispatch(hostname: string, envelope: DispatchEnvelope): Promise<void>;
  cancel(hostname: string, runId: string, reason: string): Promise<void>;
}

/** What an ingest answers: the keys to acknowledge (durable, duplicate or refused) and the runs whose records it refused. */
export interface IngestAck {
  acked: readonly RecordKey[];
  /** Runs the host may not write to: `unknown` (the CP never dispatched it and it is no tick) or `foreign` (another host's). */
  refused: readonly { run_id: string; reason: 'unknown' | 'foreign' }[];
}

/** CP side: where every route delivers the events it receives, whatever the transport. */
export interface EventIngest {
  /** Stores the records of an authenticated host exactly once; resolves with the keys to acknowledge and what was refused. */
  accept(hostname: string, records: readonly EventRecord[]): Promise<IngestAck>;
}
