/**
 * CPU per finding of each step of an ingest (plan, write + commit, assemble) and of posting the plan and its outcome
 * across threads, with the ingest suite's frames: `npx tsx bench/sim/ingest-split.ts [batches] [recordsPerBatch]`.
 * Thread CPU (process.threadCpuUsage is not in Node 20, so: user+system of this thread from /proc/self/task).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize, deserialize } from 'node:v8';
import { openStore } from '../../src/cp/store/store.js';
import { assembleResults, mergePlans, planIngest } from '../../src/cp/store/ingest-plan.js';
import { createIngestWriter } from '../../src/cp/store/ingest-write.js';
import type { IngestItem } from '../../src/cp/store/ingest.js';
import type { EventRecord } from '../../src/protocol/tunnel.js';
import { findingFrameBuilder } from '../lib/sim-daimon.js';
import { newId } from '../../src/protocol/ids.js';
import { createRunsRepo } from '../../src/cp/store/runs.js';
import { createFeedRepo } from '../../src/cp/store/feed.js';

const batches = Number(process.argv[2] ?? 40);
const perBatch = Number(process.argv[3] ?? 4000);
const HOSTS = 100;
const PER_FRAME = 500;

/** CPU µs of this thread (utime + stime from /proc/thread-self/stat, in clock ticks of 10 ms). */
const threadCpuMicros = (): number => {
  const stat = readFileSync('/proc/thread-self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
};

const dir = mkdtempSync(join(tmpdir(), 'okesu-ingest-split-'));
const store = openStore(join(dir, 'cp.db'));
const writer = createIngestWriter(store.db, createRunsRepo(store.db), createFeedRepo(store.db));
const hosts = Array.from({ length: HOSTS }, (_, i) => ({ hostname: `bench-${i}`, build: findingFrameBuilder(newId('r'), PER_FRAME), seq: 0 }));
const frame = (h: (typeof hosts)[number]): EventRecord[] => {
  const records = (JSON.parse(h.build(h.seq)) as { records: EventRecord[] }).records;
  h.seq += PER_FRAME;
  return records;
};
const batchesOf = (): IngestItem[][] => {
  const out: IngestItem[][] = [];
  let h = 0;
  for (let b = 0; b < batches; b++) {
    const items: IngestItem[] = [];
    for (let n = 0; n < perBatch; n += PER_FRAME) {
      const host = hosts[h++ % HOSTS] as (typeof hosts)[number];
      items.push({ hostname: host.hostname, records: frame(host) });
    }
    out.push(items);
  }
  return out;
};
// Warm-up (and every run opened by its tick start), then the measured batches.
const warm = batchesOf();
const measured = batchesOf();
for (const items of warm) store.ingest.ingestBatch(items, Date.now());

const t = { plan: 0, merge: 0, write: 0, assemble: 0, serialize: 0, serializeParts: 0, deserialize: 0, outSerialize: 0, outDeserialize: 0 };
let records = 0;
let planBytes = 0;
// CPU of the process (this thread plus V8's helper threads) per step, in ms.
const timed = <T>(key: keyof typeof t, fn: () => T): T => {
  const c0 = process.cpuUsage();
  const v = fn();
  const c = process.cpuUsage(c0);
  t[key] += (c.user + c.system) / 1000;
  return v;
};
const cpu0 = threadCpuMicros();
const wall0 = performance.now();
for (const items of measured) {
  records += items.reduce((n, i) => n + i.records.length, 0);
  const now = Date.now();
  // As the queue does with the ingest thread: each frame planned on arrival, the group merged when posted.
  const parts = timed('plan', () => items.map((item) => planIngest([item])));
  const { plan, local } = timed('merge', () => mergePlans(parts));
  timed('serializeParts', () => serialize(parts.map((p) => p.plan)));
  const bytes = timed('serialize', () => serialize(plan));
  planBytes += bytes.length;
  timed('deserialize', () => deserialize(bytes));
  const outcome = timed('write', () => store.db.transaction(() => writer.write(plan, now))());
  const outBytes = timed('outSerialize', () => serialize(outcome));
  timed('outDeserialize', () => deserialize(outBytes));
  timed('assemble', () => assembleResults(items, plan, local, outcome, now));
}
const wall = performance.now() - wall0;
const cpu = threadCpuMicros() - cpu0;
const per = (ms: number): string => `${((ms * 1000) / records).toFixed(2)} µs`;
console.log(`CPU per record by step (process CPU):`);
console.log(`${records} records in ${batches} batches of ${perBatch}; wall ${per(wall)} per record, thread CPU ${((cpu) / records).toFixed(2)} µs per record`);
for (const [k, v] of Object.entries(t)) console.log(`  ${k.padEnd(15)} ${per(v)}`);
console.log(`  plan size       ${(planBytes / records).toFixed(0)} bytes per record`);
store.close();
rmSync(dir, { recursive: true, force: true });
