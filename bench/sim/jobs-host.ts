/**
 * One simulated jobs-mode host, built on the protocol's own modules (bucket layout, signed-object codec, object
 * schemas) and not on the daimon's code: each poll LISTs its inbox, claims every new job with a conditional create,
 * answers it like the trivial agent (one events object with run_start and run_end, then the run's exit object), and
 * PUTs its heartbeat every `heartbeatEvery` polls. Every request it makes is counted by operation, per host.
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import type { Bucket } from '../../src/transport/bucket/bucket.js';
import type { BucketLayout } from '../../src/protocol/bucket-layout.js';
import { parseBucketKey } from '../../src/protocol/bucket-layout.js';
import { hostParty, jobBodySchema, MAX_OBJECT_BYTES } from '../../src/protocol/bucket-objects.js';
import { encodeObject, readObject, type ObjectSigner } from '../../src/transport/bucket/signed-object.js';

const DAY = 86_400_000;

/** Requests one host made, by operation, and what its polls saw. */
export interface JobsHostCounters {
  polls: number;
  list: number;
  get: number;
  put: number;
  putIfAbsent: number;
  heartbeats: number;
  claimed: number;
  /** Conditional creates that found a claim already there (another poller won). */
  lost: number;
  /** Jobs that failed verification or their schema (never acted on). */
  refused: number;
  /** Requests that failed (the poll goes on at the next interval). */
  errors: number;
  eventsObjects: number;
  records: number;
}

/** One job this host claimed, with epoch ms of each step. */
export interface ClaimTiming {
  host: string;
  runId: string;
  /** The job header's issued_at: when its writer signed it. */
  issuedAt: number;
  /** When the LIST that first showed the job answered. */
  listedAt: number;
  /** When the conditional create of the claim answered `created`. */
  claimedAt: number;
  /** When the run's exit object was written (its events object before it). */
  exitAt: number;
}

/** What a simulated host needs: its bucket, identity and pace. */
export interface JobsHostOptions {
  bucket: Bucket;
  layout: BucketLayout;
  hostname: string;
  signer: ObjectSigner;
  /** The CP's CA public key: jobs verify with it. */
  caKey: KeyObject;
  pollMs: number;
  heartbeatEvery: number;
  /** Name of this poller in its claims. */
  poller: string;
  onClaim(claim: ClaimTiming): void;
}

/** A simulated host: `start` begins polling (first poll jittered over one interval), `stop` ends it. */
export interface JobsHost {
  readonly hostname: string;
  readonly counters: JobsHostCounters;
  start(): void;
  stop(): void;
  /** Writes one events object of `records` (already-serialised record lines) under out/<host>/; resolves after the PUT. */
  writeEvents(records: readonly string[]): Promise<void>;
}

/** A fresh set of zero counters. */
export function zeroCounters(): JobsHostCounters {
  return { polls: 0, list: 0, get: 0, put: 0, putIfAbsent: 0, heartbeats: 0, claimed: 0, lost: 0, refused: 0, errors: 0, eventsObjects: 0, records: 0 };
}

/** Builds one simulated host. */
export function createJobsHost(o: JobsHostOptions): JobsHost {
  const c = zeroCounters();
  const party = hostParty(o.hostname);
  const rel = (key: string): string => o.layout.relative(key) ?? key;
  const seen = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let hbSeq = 0;

  const put = async (key: string, body: Buffer): Promise<void> => {
    c.put++;
    await o.bucket.put(key, body);
  };

  const writeEvents = async (records: readonly string[]): Promise<void> => {
    const now = Date.now();
    const key = o.layout.events(o.hostname, now, randomBytes(8).toString('hex'));
    await put(key, encodeObject({ kind: 'events', key: rel(key), to: 'cp', issued_at: now, expires_at: now + 30 * DAY }, records, o.signer));
    c.eventsObjects++;
    c.records += records.length;
  };

  /** The trivial agent: starts and completes at once; both records in one object, then the exit. */
  const answer = async (runId: string, agent: string): Promise<number> => {
    const ts = Date.now();
    await writeEvents([
      JSON.stringify({ run_id: runId, seq: 0, event: { type: 'run_start', ts, agent } }),
      JSON.stringify({ run_id: runId, seq: 1, event: { type: 'run_end', ts, agent, status: 'completed', duration_ms: 0, findings: 0 } }),
    ]);
    const now = Date.now();
    const key = o.layout.exit(o.hostname, now, randomBytes(8).toString('hex'));
    await put(key, encodeObject({ kind: 'exit', key: rel(key), to: 'cp', issued_at: now, expires_at: now + 30 * DAY }, [{ run_id: runId, status: 'completed', last_seq: 1 }], o.signer));
    return Date.now();
  };

  const take = async (runId: string, listedAt: number): Promise<void> => {
    const jobKey = o.layout.job(o.hostname, runId);
    c.get++;
    const got = await o.bucket.get(jobKey, MAX_OBJECT_BYTES);
    if (!got) return;
    if (got.tooLarge) {
      c.refused++;
      return;
    }
    const read = readObject(got.body, {
      key: rel(jobKey), kind: 'job', to: party, now: Date.now(),
      from: (p) => p === 'cp', keysOf: (p) => (p === 'cp' ? [o.caKey] : undefined),
    });
    const envelope = read.ok ? jobBodySchema.safeParse(read.object.lines[0]) : undefined;
    if (!read.ok || !envelope?.success || envelope.data.run_id !== runId) {
      c.refused++;
      return;
    }
    const now = Date.now();
    const claimKey = o.layout.claim(o.hostname, runId);
    c.putIfAbsent++;
    const won = await o.bucket.putIfAbsent(claimKey, encodeObject({ kind: 'claim', key: rel(claimKey), to: 'cp', issued_at: now, expires_at: now + DAY }, [{ run_id: runId, poller: o.poller }], o.signer));
    if (won === 'exists') {
      c.lost++;
      return;
    }
    const claimedAt = Date.now();
    c.claimed++;
    const exitAt = await answer(runId, envelope.data.agent);
    o.onClaim({ host: o.hostname, runId, issuedAt: read.object.header.issued_at, listedAt, claimedAt, exitAt });
  };

  const heartbeat = async (): Promise<void> => {
    const now = Date.now();
    const key = o.layout.heartbeat(o.hostname);
    const interval = o.pollMs * o.heartbeatEvery;
    await put(key, encodeObject({ kind: 'heartbeat', key: rel(key), to: 'cp', issued_at: now, expires_at: now + 12 * interval }, [
      { seq: hbSeq++, mode: 'jobs', poll_ms: o.pollMs, interval_ms: interval, version: 'bench', running: [], spool_depth: 0 },
    ], o.signer));
    c.heartbeats++;
  };

  const poll = async (): Promise<void> => {
    const heartbeatDue = c.polls % o.heartbeatEvery === 0;
    c.polls++;
    const jobs = new Set<string>();
    const claims = new Set<string>();
    let next: string | undefined;
    do {
      c.list++;
      const page = await o.bucket.list(o.layout.inbox(o.hostname), next ? { continuation: next } : {});
      for (const e of page.entries) {
        const k = parseBucketKey(rel(e.key));
        if (k?.kind === 'job') jobs.add(k.runId);
        else if (k?.kind === 'claim') claims.add(k.runId);
      }
      next = page.next;
    } while (next);
    const listedAt = Date.now();
    for (const runId of jobs) {
      if (claims.has(runId) || seen.has(runId)) continue;
      seen.add(runId);
      try {
        await take(runId, listedAt);
      } catch (err) {
        // Try again at the next poll (the claim decides who runs it).
        seen.delete(runId);
        throw err;
      }
    }
    if (heartbeatDue) await heartbeat();
  };

  const loop = (): void => {
    if (!running) return;
    const started = Date.now();
    poll()
      .catch(() => {
        c.errors++;
      })
      .finally(() => {
        // Fixed rate: the next poll starts one interval after this one started (at once if it ran longer).
        if (running) timer = setTimeout(loop, Math.max(0, o.pollMs - (Date.now() - started)));
      });
  };

  return {
    hostname: o.hostname,
    counters: c,
    start() {
      if (running) return;
      running = true;
      timer = setTimeout(loop, Math.random() * o.pollMs);
    },
    stop() {
      running = false;
      if (timer) clearTimeout(timer);
    },
    writeEvents,
  };
}
