import { randomBytes } from 'node:crypto';
import type { BucketLayout } from '../../src/protocol/bucket-layout.js';
import { MAX_RECORDS_PER_OBJECT } from '../../src/protocol/bucket-objects.js';
import type { ClaimBody, ExitBody, HeartbeatBody, ObjectKind, RenewRequestBody } from '../../src/protocol/bucket-objects.js';
import type { EventRecord } from '../../src/protocol/tunnel.js';
import type { UpgradeReport } from '../../src/protocol/rollout.js';
import { encodeObject } from '../../src/transport/bucket/signed-object.js';
import type { ObjectSigner } from '../../src/transport/bucket/signed-object.js';

const DAY = 86_400_000;
/** Lifetimes of what a host writes (JOBS-DESIGN: the CP ingests each (run, seq) once, so events may live long). */
export const HOST_OBJECT_TTL_MS = { claim: DAY, events: 30 * DAY, exit: 30 * DAY, upgrade_status: 7 * DAY, reg_req: 3_600_000, renew_req: 3_600_000 } as const;
/** A heartbeat stays valid for 12 intervals: past that the host is offline anyway. */
export const HEARTBEAT_TTL_INTERVALS = 12;
// Keep each events object well under MAX_OBJECT_BYTES (4 MiB): headroom for the header and the signature line.
const EVENTS_BYTES_BUDGET = 3.5 * 1024 * 1024;

/** A signed object ready to PUT at `key` (the full key, prefix applied). */
export interface HostObject {
  key: string;
  body: Buffer;
}

/** Builds the signed objects one host writes to the bucket: claims, events, exits, upgrade reports, heartbeats and renewal requests. */
export interface HostObjects {
  claim(runId: string, poller: string): HostObject;
  /** Records split into events objects (≤ MAX_RECORDS_PER_OBJECT records and ~3.5 MiB each), with the records of each. */
  events(records: readonly EventRecord[]): { object: HostObject; records: EventRecord[] }[];
  exit(body: ExitBody): HostObject;
  /** An upgrade report at `out/<host>/<ms>-<nonce>.upgrade` (ordered with events and exits by its stamp). */
  upgradeReport(body: UpgradeReport): HostObject;
  heartbeat(body: HeartbeatBody): HostObject;
  /** A certificate renewal request at `reg/<host>/<nonce>.renew`, signed with the current key. */
  renewRequest(body: RenewRequestBody): HostObject;
}

/** The object builder of `hostname`, signing with its key. */
export function hostObjects(layout: BucketLayout, hostname: string, signer: ObjectSigner, now: () => number): HostObjects {
  const make = (kind: ObjectKind, key: string, ttl: number, lines: readonly unknown[]): HostObject => {
    const at = now();
    return { key, body: encodeObject({ kind, key: layout.relative(key) ?? key, to: 'cp', issued_at: at, expires_at: at + ttl }, lines, signer) };
  };
  const nonce = (): string => randomBytes(8).toString('hex');
  // Outbox keys sort by this stamp and the CP ingests in key order: strictly increasing, so two objects made in one
  // millisecond (a batch split in two) cannot swap, and a run's run_start is never read after its later records.
  let lastStamp = 0;
  const stamp = (): number => (lastStamp = Math.max(now(), lastStamp + 1));
  return {
    claim: (runId, poller) => make('claim', layout.claim(hostname, runId), HOST_OBJECT_TTL_MS.claim, [{ run_id: runId, poller } satisfies ClaimBody]),
    events(records) {
      const out: { object: HostObject; records: EventRecord[] }[] = [];
      let lines: string[] = [];
      let batch: EventRecord[] = [];
      let size = 0;
      const flush = (): void => {
        if (batch.length === 0) return;
        out.push({ object: make('events', layout.events(hostname, stamp(), nonce()), HOST_OBJECT_TTL_MS.events, lines), records: batch });
        lines = [];
        batch = [];
        size = 0;
      };
      for (const record of records) {
        const line = JSON.stringify(record);
        const bytes = Buffer.byteLength(line) + 1;
        if (batch.length >= MAX_RECORDS_PER_OBJECT || (batch.length > 0 && size + bytes > EVENTS_BYTES_BUDGET)) flush();
        lines.push(line);
        batch.push(record);
        size += bytes;
      }
      flush();
      return out;
    },
    exit: (body) => make('exit', layout.exit(hostname, stamp(), nonce()), HOST_OBJECT_TTL_MS.exit, [body]),
    upgradeReport: (body) => make('upgrade_status', layout.upgradeReport(hostname, stamp(), nonce()), HOST_OBJECT_TTL_MS.upgrade_status, [body]),
    heartbeat: (body) => make('heartbeat', layout.heartbeat(hostname), HEARTBEAT_TTL_INTERVALS * body.interval_ms, [body]),
    renewRequest: (body) => make('renew_req', layout.renewRequest(hostname, body.nonce), HOST_OBJECT_TTL_MS.renew_req, [body]),
  };
}

/** The exit of each run whose `run_end` is among `records` (status from the event; last_seq is its seq). */
export function exitsOf(records: readonly EventRecord[]): ExitBody[] {
  const exits: ExitBody[] = [];
  for (const r of records) {
    if (r.event.type !== 'run_end') continue;
    const status = typeof r.event.status === 'string' && r.event.status !== '' ? r.event.status.slice(0, 32) : 'unknown';
    exits.push({ run_id: r.run_id, status, last_seq: r.seq });
  }
  return exits;
}
