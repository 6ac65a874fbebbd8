import { expect } from 'vitest';
import type { HostView, RunView } from '../../src/protocol/api.js';
import type { RunEvent } from '../../src/protocol/event.js';
import type { StoredFinding } from '../../src/protocol/finding.js';
import { bucketLayout, type BucketLayout } from '../../src/protocol/bucket-layout.js';
import type { Bucket, BucketEntry } from '../../src/transport/bucket/bucket.js';
import { createOperatorClient, type OperatorClient } from '../../src/transport/operator-client.js';
import { loadClientConfig } from '../../src/cli/config.js';
import { createTestBucket, s3Env, type TestBucket } from '../support/s3.js';
import type { S3TestServer } from '../support/s3-provided.js';
import { okesuJson, runOkesu, spawnOkesu, startCp, waitFor, TEST_AGENTS, type CpProcess, type OkesuProcess } from './harness.js';

/**
 * Helpers of the jobs-mode end-to-end tests (test/e2e/jobs-*.test.ts): a CP and daimons that share a radosgw bucket,
 * with short intervals so a test takes seconds. Every child gets the bucket's credentials only through its environment.
 */

/** Bucket poll of the test daimons and scan interval of the test CPs. */
export const POLL = '500ms';

const privateServers = new WeakMap<TestBucket, S3TestServer>();

/** A fresh bucket on the run's radosgw, or on `server` (a private one, e.g. to restart it); children get its keys. */
export async function jobsBucket(name: string, server?: S3TestServer): Promise<TestBucket> {
  const tb = await createTestBucket(name, server ? { server } : {});
  if (server) privateServers.set(tb, server);
  return tb;
}

/** The environment through which a child reaches the bucket's server: its keys, as the AWS SDK's default chain reads them. */
export const bucketEnv = (tb: TestBucket): Record<string, string> => s3Env(privateServers.get(tb));

/** The flags that name a test bucket, as a user passes them to `cp serve` and `daemon`. */
export function bucketFlags(tb: TestBucket): string[] {
  return ['--bucket', tb.url, '--s3-endpoint', tb.location.endpoint ?? '', '--s3-region', tb.location.region ?? 'us-east-1'];
}

/** The layout of a test bucket (its keys under the prefix). */
export const layoutOf = (tb: TestBucket): BucketLayout => bucketLayout(tb.location.prefix);

/** Starts `okesu cp serve` scanning the bucket every 500 ms (tunnel heartbeats every 500 ms too). */
export function startJobsCp(dir: string, tb: TestBucket, port = 0, extra: string[] = []): Promise<CpProcess> {
  return startCp(dir, port, [...bucketFlags(tb), '--bucket-scan', POLL, '--heartbeat-interval', '500ms', ...extra], bucketEnv(tb));
}

/** How a test daimon reaches its CP: the bucket only, or a tunnel URL and the bucket behind it. */
export interface DaimonOptions {
  /** Join token (first start only). */
  token?: string;
  /** `--cp URL` (then the transport is auto unless `transport` says otherwise). */
  cp?: string;
  transport?: 'jobs' | 'auto' | 'tunnel';
  poll?: string;
  extra?: string[];
}

/** Starts `okesu daemon` against the bucket with the test agents and a 500 ms poll. */
export function spawnJobsDaimon(tb: TestBucket, state: string, hostname: string, opts: DaimonOptions = {}): OkesuProcess {
  const transport = opts.transport ?? (opts.cp ? 'auto' : 'jobs');
  return spawnOkesu([
    'daemon', '--transport', transport, ...bucketFlags(tb), '--poll', opts.poll ?? POLL,
    ...(opts.cp ? ['--cp', opts.cp] : []), ...(opts.token ? ['--token', opts.token] : []),
    '--state', state, '--hostname', hostname, '--agents', TEST_AGENTS, '--log-level', 'warn', ...(opts.extra ?? []),
  ], bucketEnv(tb));
}

/** A fresh join token from the CP. */
export async function joinToken(cp: CpProcess, uses = 1): Promise<string> {
  const r = await runOkesu(['token', 'create', '--join', '--uses', String(uses)], cp.env);
  if (r.code !== 0) throw new Error(`token create exited ${r.code}: ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * An operator client for the CP, in this process: the polls of a wait go through it rather than a child `okesu` each
 * (cheaper on 2 cores); the tests still check what the CLI prints where it matters.
 */
export const operator = (cp: CpProcess): OperatorClient => createOperatorClient(loadClientConfig(undefined, cp.env));

/** One host's row, as `okesu hosts --json` serves it (GET /v1/hosts). */
export async function hostView(cp: CpProcess, hostname: string): Promise<HostView | undefined> {
  return (await operator(cp).hosts()).find((h) => h.hostname === hostname);
}

/** The same row, printed by `okesu hosts --json`. */
export async function hostViewCli(cp: CpProcess, hostname: string): Promise<HostView | undefined> {
  return (await okesuJson<HostView[]>(['hosts'], cp.env)).find((h) => h.hostname === hostname);
}

/** Waits until the host's row satisfies `ok`; returns that row. */
export function waitHost(cp: CpProcess, hostname: string, what: string, ok: (h: HostView) => boolean, timeoutMs = 45_000): Promise<HostView> {
  return waitFor(`${hostname} ${what}`, async () => {
    const h = await hostView(cp, hostname);
    return h && ok(h) ? h : undefined;
  }, timeoutMs, 100);
}

/** Every event of a run stored at the CP, in seq order (paged). */
export async function runEvents(cp: CpProcess, runId: string): Promise<RunEvent[]> {
  const client = operator(cp);
  const all: RunEvent[] = [];
  let after: number | undefined;
  for (;;) {
    const page = await client.runEvents(runId, after, 0);
    all.push(...page.events);
    if (page.events.length === 0 || page.next === after) return all;
    after = page.next;
  }
}

/** A run's view, as `okesu runs show RUN --json` serves it. */
export const runView = (cp: CpProcess, runId: string): Promise<RunView> => operator(cp).getRun(runId);

/** Where the CP sent a run (`tunnel` or `jobs`): the `route` of its run view. */
export const routeOf = (run: RunView): string | undefined => run.route ?? undefined;

/** Waits until a run is terminal and its run_end is stored; returns the run and its events. */
export async function waitRunEnd(cp: CpProcess, runId: string, timeoutMs = 45_000): Promise<{ run: RunView; events: RunEvent[] }> {
  return waitFor(`run ${runId} to end`, async () => {
    const run = await runView(cp, runId);
    if (!['completed', 'failed', 'timeout', 'cancelled'].includes(run.status)) return undefined;
    const events = await runEvents(cp, runId);
    return events.some((e) => e.type === 'run_end') ? { run, events } : undefined;
  }, timeoutMs, 100);
}

/** Dispatches AGENT to one host as `okesu run AGENT --host H --dispatch D --input k=v…` does (POST /v1/runs), no wait. */
export function dispatch(cp: CpProcess, agent: string, host: string, opts: { dispatch?: 'auto' | 'tunnel' | 'jobs'; inputs?: Record<string, string | number> } = {}): Promise<RunView> {
  return operator(cp).createRun({ agent, host, inputs: opts.inputs ?? {}, dispatch: opts.dispatch ?? 'auto' });
}

/** The findings of one run, as `okesu findings --json` serves them (the tests store far fewer than the limit). */
export async function findingsOf(cp: CpProcess, runId: string): Promise<StoredFinding[]> {
  return (await operator(cp).findings({ limit: 100_000 })).findings.filter((f) => f.run_id === runId);
}

/** Seqs from here on are a restarted daimon's own closing of a run that died with it (daimon/run-registry.ts). */
const RECOVERY_SEQ_BASE = 1_000_000_000;

/**
 * Checks a run's transcript is whole and single: seqs unique and contiguous from the first (the run's own, and apart
 * from them a restarted daimon's closing records), exactly one run_start and one run_end, and `findings` findings.
 */
export function expectWholeTranscript(events: RunEvent[], findings: number): void {
  const seqs = events.map((e) => e.seq);
  expect(new Set(seqs).size, `seqs ${seqs.join(',')}`).toBe(seqs.length);
  for (const part of [seqs.filter((s) => s < RECOVERY_SEQ_BASE), seqs.filter((s) => s >= RECOVERY_SEQ_BASE)]) {
    if (part.length === 0) continue;
    const sorted = [...part].sort((a, b) => a - b);
    expect(sorted[sorted.length - 1]! - sorted[0]! + 1, `a gap in seqs ${sorted[0]}..${sorted[sorted.length - 1]}`).toBe(sorted.length);
  }
  expect(events.filter((e) => e.type === 'run_start')).toHaveLength(1);
  expect(events.filter((e) => e.type === 'run_end')).toHaveLength(1);
  expect(events.filter((e) => e.type === 'finding')).toHaveLength(findings);
}

/** Every key under `prefix` (paged). */
export async function listAll(bucket: Bucket, prefix: string): Promise<BucketEntry[]> {
  const out: BucketEntry[] = [];
  let next: string | undefined;
  do {
    const page = await bucket.list(prefix, next ? { continuation: next } : {});
    out.push(...page.entries);
    next = page.next;
  } while (next);
  return out;
}

/** Parses JSON lines printed by a child (`tail --json`, `run --wait --json`). */
export const jsonLines = <T>(p: OkesuProcess): T[] => p.stdoutLines.filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as T);
