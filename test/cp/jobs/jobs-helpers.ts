import { randomBytes } from 'node:crypto';
import { bucketLayout, type BucketLayout } from '../../../src/protocol/bucket-layout.js';
import { hostParty, type ObjectKind } from '../../../src/protocol/bucket-objects.js';
import { encodeObject, createObjectSigner, type ObjectSigner } from '../../../src/transport/bucket/signed-object.js';
import { createMemoryBucket, type MemoryBucket } from '../../../src/transport/bucket/memory-bucket.js';
import type { EventRecord } from '../../../src/protocol/tunnel.js';
import { startCp, type CpHarness, type HostIdentity } from '../cp-harness.js';
import type { ControlPlaneOptions } from '../../../src/cp/cp-server.js';
import type { Bucket } from '../../../src/transport/bucket/bucket.js';
import type { Logger } from 'pino';

/** The prefix the jobs tests put their CP's objects under. */
export const PREFIX = 'okesu-test';

/** A CP with a bucket whose scanner is driven by the test (`scan()`), not its timer (an hour apart). */
export interface JobsCp {
  cp: CpHarness;
  bucket: Bucket;
  layout: BucketLayout;
  scan(): Promise<void>;
}

/** Starts a CP on a memory bucket (or `bucket`) with the scanner's timer out of the way. */
export async function startJobsCp(opts: { bucket?: Bucket; now?: () => number; options?: Partial<ControlPlaneOptions>; stateDir?: string; log?: Logger } = {}): Promise<JobsCp & { memory?: MemoryBucket }> {
  const memory = opts.bucket ? undefined : createMemoryBucket();
  const bucket = opts.bucket ?? (memory as MemoryBucket);
  const cp = await startCp({
    ...(opts.stateDir && { stateDir: opts.stateDir }), ...(opts.now && { now: opts.now }), ...(opts.log && { log: opts.log }),
    options: { bucketStore: bucket, bucket: { bucket: 'test', prefix: PREFIX }, bucketScanMs: 3_600_000, ...opts.options },
  });
  const layout = bucketLayout(PREFIX);
  return { cp, bucket, layout, memory, scan: () => (cp.cp.bucketScanner() as NonNullable<ReturnType<typeof cp.cp.bucketScanner>>).scanNow() };
}

/** What a test host writes with: its signer (its own key, party host:<name>) and the layout. */
export function hostWriter(identity: Pick<HostIdentity, 'hostname' | 'key'>, layout: BucketLayout, now: () => number = Date.now) {
  const signer = createObjectSigner(hostParty(identity.hostname), identity.key);
  const obj = (kind: ObjectKind, key: string, lines: unknown[], s: ObjectSigner = signer, ttlMs = 86_400_000): Buffer =>
    encodeObject({ kind, key: layout.relative(key) as string, to: 'cp', issued_at: now(), expires_at: now() + ttlMs }, lines, s);
  return {
    signer,
    obj,
    eventsKey: (): string => layout.events(identity.hostname, now(), randomBytes(8).toString('hex')),
    exitKey: (): string => layout.exit(identity.hostname, now(), randomBytes(8).toString('hex')),
    events: (key: string, records: readonly EventRecord[], s?: ObjectSigner): Buffer => obj('events', key, [...records], s),
    heartbeat: (body: Partial<HeartbeatFields> = {}, s?: ObjectSigner, issuedAt?: number): Buffer => {
      const key = layout.heartbeat(identity.hostname);
      const at = issuedAt ?? now();
      const fields = { seq: 1, mode: 'jobs', poll_ms: 10_000, interval_ms: 10_000, version: 'test', running: [], spool_depth: 0, ...body };
      return encodeObject({ kind: 'heartbeat', key: layout.relative(key) as string, to: 'cp', issued_at: at, expires_at: at + 12 * fields.interval_ms }, [fields], s ?? signer);
    },
  };
}

/** Fields of a bucket heartbeat body. */
export interface HeartbeatFields {
  seq: number;
  mode: 'jobs' | 'auto';
  poll_ms: number;
  interval_ms: number;
  version: string;
  running: string[];
  spool_depth: number;
}

/** Every `.reason` note under the quarantine prefix, parsed. */
export async function quarantineNotes(bucket: Bucket, layout: BucketLayout): Promise<{ reason: string; code: string; key: string; size: number }[]> {
  const page = await bucket.list(`${layout.root}quarantine/`);
  const notes = [];
  for (const e of page.entries.filter((x) => x.key.endsWith('.reason'))) {
    const got = await bucket.get(e.key, 1 << 20);
    if (got && !got.tooLarge) notes.push(JSON.parse(got.body.toString('utf8')) as { reason: string; code: string; key: string; size: number });
  }
  return notes;
}

/** Keys under a prefix (one page). */
export async function keysUnder(bucket: Bucket, prefix: string): Promise<string[]> {
  return (await bucket.list(prefix)).entries.map((e) => e.key);
}
