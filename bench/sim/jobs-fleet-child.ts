/**
 * One process of the simulated jobs-mode fleet: registers its hosts (through the CP's `/v1/register`, or with local
 * keys only in the sim-only mode), then runs a `jobs-host.ts` sim per host over one S3 client, and reports counters
 * and claim timings over IPC. Run with `fork(this file, { execArgv: ['--import', 'tsx'] })`; S3 credentials come from
 * the environment (the AWS SDK's default chain), as a daimon's do.
 */
import { createPublicKey, generateKeyPair, X509Certificate, type KeyObject } from 'node:crypto';
import https from 'node:https';
import { promisify } from 'node:util';
import { bucketLayout } from '../../src/protocol/bucket-layout.js';
import { hostParty } from '../../src/protocol/bucket-objects.js';
import { newId } from '../../src/protocol/ids.js';
import type { Bucket, BucketLocation } from '../../src/transport/bucket/bucket.js';
import { createObjectSigner } from '../../src/transport/bucket/signed-object.js';
import { registerHost } from '../lib/register-host.js';
import { TICK_START_SEQ } from '../lib/sim-daimon.js';
import { createJobsHost, type ClaimTiming, type JobsHost } from './jobs-host.js';
import { registerThroughBucket } from './jobs-register.js';
import { createLiteS3Bucket } from './lite-s3.js';
import type { FromJobsChild, ToJobsChild } from './jobs-messages.js';

const generateEcKeyPair = promisify(generateKeyPair);

interface Identity {
  hostname: string;
  keyPem: string;
}

const identities: Identity[] = [];
let caKey: KeyObject | undefined;
let bucket: Bucket | undefined;
const hosts: JobsHost[] = [];
let claims: ClaimTiming[] = [];

function send(msg: FromJobsChild): void {
  process.send?.(msg);
}

async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

async function register(msg: Extract<ToJobsChild, { type: 'register' }>): Promise<void> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: msg.concurrency, localAddress: msg.localAddress });
  const t0 = performance.now();
  let failures = 0;
  let firstError: string | undefined;
  const done = new Set(identities.map((i) => i.hostname));
  await pool(msg.hostnames.filter((h) => !done.has(h)), msg.concurrency, async (hostname) => {
    try {
      const id = await registerHost(msg.target, hostname, msg.joinToken, agent);
      identities.push({ hostname: id.hostname, keyPem: id.key });
      caKey ??= new X509Certificate(id.ca).publicKey;
    } catch (err) {
      failures++;
      firstError ??= (err as Error).message;
    }
  });
  agent.destroy();
  send({ type: 'registered', count: identities.length, ms: performance.now() - t0, failures, firstError });
}

function openBucket(location: BucketLocation): Bucket {
  bucket ??= createLiteS3Bucket(location, { accessKeyId: process.env['AWS_ACCESS_KEY_ID'] ?? '', secretAccessKey: process.env['AWS_SECRET_ACCESS_KEY'] ?? '' });
  return bucket;
}

async function registerBucket(msg: Extract<ToJobsChild, { type: 'register-bucket' }>): Promise<void> {
  const b = openBucket(msg.location);
  const layout = bucketLayout(msg.location.prefix);
  const t0 = performance.now();
  let failures = 0;
  let firstError: string | undefined;
  // All at once, as a fleet installed together would: the CP answers them one by one in its scans.
  await Promise.all(msg.hostnames.slice(0, msg.count).map(async (hostname) => {
    try {
      const id = await registerThroughBucket(b, layout, hostname, msg.joinToken, msg.pollMs);
      identities.push({ hostname: id.hostname, keyPem: id.keyPem });
      caKey ??= new X509Certificate(id.caPem).publicKey;
    } catch (err) {
      failures++;
      firstError ??= (err as Error).message;
    }
  }));
  send({ type: 'registered', count: identities.length, ms: performance.now() - t0, failures, firstError });
}

async function makeKeys(msg: Extract<ToJobsChild, { type: 'keys' }>): Promise<void> {
  const t0 = performance.now();
  caKey = createPublicKey(msg.caPem);
  await pool(msg.hostnames, 8, async (hostname) => {
    const { privateKey } = await generateEcKeyPair('ec', { namedCurve: 'P-256' });
    identities.push({ hostname, keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string });
  });
  send({ type: 'keyed', count: identities.length, ms: performance.now() - t0 });
}

async function start(msg: Extract<ToJobsChild, { type: 'start' }>): Promise<void> {
  if (!caKey) throw new Error('start before register or keys');
  const ca = caKey;
  const b = openBucket(msg.location);
  const layout = bucketLayout(msg.location.prefix);
  for (const id of identities.slice(hosts.length)) {
    const host = createJobsHost({
      bucket: b, layout, hostname: id.hostname, signer: createObjectSigner(hostParty(id.hostname), id.keyPem), caKey: ca,
      pollMs: msg.pollMs, heartbeatEvery: msg.heartbeatEvery, poller: `bench-${process.pid}`,
      onClaim: (c) => claims.push(c),
    });
    hosts.push(host);
    host.start();
  }
  send({ type: 'started', count: hosts.length });
}

const SEVS = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO'];

/** Finding records as a busy agent emits them, serialised once (the host signs the lines as they are). */
function findingLines(runId: string, firstSeq: number, count: number): string[] {
  const ts = Date.now();
  const lines: string[] = [];
  for (let seq = firstSeq; seq < firstSeq + count; seq++) {
    lines.push(
      `{"run_id":"${runId}","seq":${seq},"event":{"ts":${ts},"agent":"bench-edr","type":"finding","severity":"${SEVS[seq % SEVS.length]}",` +
        `"title":"Suspicious process ${seq % 50}","category":"process","resource":"binary:/usr/bin/tool${seq}",` +
        `"evidence":["pid ${seq} parent 1 user root","cmdline /usr/bin/tool${seq} --listen 0.0.0.0:4444"],"tags":["bench"]}}`,
    );
  }
  return lines;
}

/** Each streaming host's tick run and its next seq. */
const ticks = new Map<string, { runId: string; nextSeq: number }>();

async function stream(msg: Extract<ToJobsChild, { type: 'stream' }>): Promise<void> {
  let objects = 0;
  let records = 0;
  let errors = 0;
  let firstPutAt = 0;
  let lastPutAt = 0;
  await Promise.all(hosts.slice(0, msg.hosts).map(async (h) => {
    // A tick run of the host's own: its findings need no dispatch. Its run_start goes first, alone, and the parent
    // waits until the CP took it: the CP reads a host's objects concurrently, so findings in a later object could
    // otherwise reach it before the run exists (and be refused).
    let tick = ticks.get(h.hostname);
    if (!tick) ticks.set(h.hostname, (tick = { runId: newId('r'), nextSeq: 0 }));
    const t = tick;
    const batches = msg.open
      ? [[JSON.stringify({ run_id: t.runId, seq: TICK_START_SEQ, event: { ts: Date.now(), agent: 'bench-edr', type: 'run_start', trigger: 'tick' } })]]
      : Array.from({ length: msg.objects }, () => findingLines(t.runId, (t.nextSeq += msg.recordsPerObject) - msg.recordsPerObject, msg.recordsPerObject));
    for (const lines of batches) {
      firstPutAt ||= Date.now();
      try {
        await h.writeEvents(lines);
        objects++;
        records += msg.open ? 0 : lines.length;
      } catch {
        errors++;
      }
      lastPutAt = Date.now();
    }
  }));
  send({ type: 'streamed', objects, records, firstPutAt, lastPutAt, errors });
}

function closeAll(): void {
  for (const h of hosts) h.stop();
  bucket?.close();
}

process.on('message', (msg: ToJobsChild) => {
  const fail = (err: unknown): void => send({ type: 'error', message: (err as Error).stack ?? String(err) });
  try {
    switch (msg.type) {
      case 'register':
        register(msg).catch(fail);
        return;
      case 'register-bucket':
        registerBucket(msg).catch(fail);
        return;
      case 'keys':
        makeKeys(msg).catch(fail);
        return;
      case 'start':
        start(msg).catch(fail);
        return;
      case 'stats':
        send({ type: 'stats', hosts: hosts.map((h) => ({ host: h.hostname, counters: { ...h.counters } })), claims, requests: { ...(bucket?.requestCounts() ?? {}) } });
        claims = [];
        return;
      case 'stream':
        stream(msg).catch(fail);
        return;
      case 'close':
        closeAll();
        process.exit(0);
    }
  } catch (err) {
    fail(err);
  }
});
// The parent went away: do not linger polling.
process.on('disconnect', () => {
  closeAll();
  process.exit(0);
});
send({ type: 'ready' });
