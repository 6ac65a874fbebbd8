import { randomBytes } from 'node:crypto';
import type { Bucket } from '../../src/transport/bucket/bucket.js';

/** What the store serves from one client with `concurrency` requests in flight, per operation. */
export interface S3Ceiling {
  listPerSecond: number;
  putPerSecond: number;
}

async function rate(seconds: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < deadline) await op(done++);
  }));
  return done / ((performance.now() - t0) / 1000);
}

/**
 * The store's ceiling for the fleet's two idle requests, measured before the fleet starts: LISTs of empty inboxes and
 * PUTs of heartbeat-sized objects (600 B, overwriting 1,000 keys), `seconds` each. The figures it bounds (idle cost,
 * claim latency) read against it.
 */
export async function measureS3Ceiling(bucket: Bucket, prefix: string, seconds = 1.5, concurrency = 32): Promise<S3Ceiling> {
  const body = randomBytes(300).toString('hex');
  const listPerSecond = await rate(seconds, concurrency, (i) => bucket.list(`${prefix}ceiling/inbox-${i % 1000}/`));
  const putPerSecond = await rate(seconds, concurrency, (i) => bucket.put(`${prefix}ceiling/hb-${i % 1000}`, body));
  return { listPerSecond, putPerSecond };
}
