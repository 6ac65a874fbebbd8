import { resolve } from 'node:path';
import type { BenchFigure, BenchResult, BenchSuite } from '../lib/types.js';
import { startCpChild, type Child, type CpChild } from '../lib/cp-process.js';
import { startDaimonChild } from '../lib/daimon-process.js';
import { sampleProcess, type ProcSummary } from '../lib/proc-sampler.js';
import { percentile, round, waitUntil } from '../lib/stats.js';
import { startTail, type TailLine } from '../lib/tail-process.js';

const AGENTS = resolve(import.meta.dirname, '../agents');
const AGENT = 'steady-findings';
const HOSTNAME = 'bench-e2e';

/** One measured phase: a steady rate, its p99 target, and how long it runs (full / quick), after a warm-up at the same rate. */
interface Phase {
  rate: number;
  targetP99Ms: number;
  seconds: { full: number; quick: number };
  warmSeconds: { full: number; quick: number };
}

/** Issue 17: p99 < 20 ms at 1,000 findings/s, and < 50 ms at 10,000/s. */
const PHASES: Phase[] = [
  { rate: 1000, targetP99Ms: 20, seconds: { full: 20, quick: 3 }, warmSeconds: { full: 2, quick: 1 } },
  { rate: 10_000, targetP99Ms: 50, seconds: { full: 10, quick: 3 }, warmSeconds: { full: 2, quick: 1 } },
];

interface Arrival {
  i: number;
  latencyMs: number;
  /** Agent write → the CP's ingest commit (`received_at`, ms resolution): the daimon and tunnel share. */
  toCommitMs: number;
}

interface PhaseContext {
  cp: CpChild;
  daimon: Child;
  tail: Child;
  byRun: Map<string, Arrival[]>;
  dispatch(rate: number, secs: number): Promise<string>;
  ended(runId: string): Promise<boolean>;
  quick: boolean;
  log: (msg: string) => void;
}

/**
 * Issue 4 item 4 / issue 17: a finding written by an agent on a real daimon until a real `okesu tail --json` prints
 * it, at a steady 1,000 and then 10,000 findings/s. Every part is the shipped product: `okesu cp serve`, `okesu daemon`
 * (registered with a join token), a `custom` agent dispatched through the operator API, and `okesu tail --json`; all
 * on this machine's clock.
 */
export const suite: BenchSuite = {
  name: 'e2e-latency',
  async run({ quick, log }): Promise<BenchResult> {
    const cp = await startCpChild();
    const closers: (() => Promise<void>)[] = [() => cp.close()];
    try {
      const daimon = await startDaimonChild(cp, HOSTNAME, ['--agents', AGENTS]);
      closers.unshift(() => daimon.close());
      const byRun = new Map<string, Arrival[]>();
      const onLine = ({ at, line }: TailLine): void => {
        const f = JSON.parse(line) as { run_id: string; received_at: number; attributes?: { i?: number; emitted_at?: number } };
        const list = byRun.get(f.run_id) ?? [];
        const emittedAt = Number(f.attributes?.emitted_at);
        list.push({ i: Number(f.attributes?.i), latencyMs: at - emittedAt, toCommitMs: f.received_at - emittedAt });
        byRun.set(f.run_id, list);
      };
      const tail = startTail(cp, onLine);
      closers.unshift(() => tail.stop());
      const dispatch = async (rate: number, secs: number): Promise<string> =>
        (await cp.admin.createRun({ agent: AGENT, host: HOSTNAME, inputs: { rate, seconds: secs } })).run_id;
      const ended = async (runId: string): Promise<boolean> => {
        const run = await cp.admin.getRun(runId);
        if (run.status === 'running' || run.status === 'dispatched') return false;
        if (run.status !== 'completed') throw new Error(`run ${runId} ended ${run.status}: ${run.error ?? ''}`);
        return true;
      };

      // Warm-up: short runs until tail prints one of their findings. Only then is tail surely following the stream
      // (it starts from the head, without --since).
      log('warming up until tail prints findings');
      await waitUntil('tail to print a warm-up finding', async () => {
        if (tail.child.exitCode !== null) throw new Error(`tail exited ${tail.child.exitCode}: ${tail.stderr()}`);
        const runId = await dispatch(200, 0.5);
        await waitUntil('the warm-up run to end', () => ended(runId), 30_000, 100);
        return waitUntil('tail output', () => (byRun.get(runId)?.length ?? 0) > 0, 3000, 50).catch(() => false);
      }, 60_000, 0);

      const ctx: PhaseContext = { cp, daimon, tail, byRun, dispatch, ended, quick, log };
      const figures: BenchFigure[] = [];
      const notes: string[] = [
        `path: agent \`${AGENT}\` (bench/agents/${AGENT}.md, provider custom, a node script) writes finding lines at a steady rate → real \`okesu daemon\` (custom provider, spool with fdatasync, sender) → mTLS tunnel → \`okesu cp serve\` (ingest, SQLite commit, live stream) → \`okesu tail --json\` child, whose stdout lines this process timestamps on arrival`,
        `latency = arrival of the line here − \`attributes.emitted_at\` the agent wrote into the finding (both performance.timeOrigin + performance.now(), same machine); includes tail's parsing and printing and this process's pipe read. Split at the finding's \`received_at\` (the CP's clock when its ingest transaction began, ms resolution): write → CP commit is the agent pipe, daimon relay/spool/sender and tunnel; CP commit → tail is the commit itself, the stream hub and tail`,
      ];
      const params: Record<string, unknown> = { quick };
      for (const phase of PHASES) {
        const r = await measurePhase(ctx, phase);
        figures.push(...r.figures);
        notes.push(...r.notes);
        params[`${phase.rate}/s`] = r.params;
      }
      return { suite: 'e2e-latency', params, figures, notes };
    } finally {
      for (const close of closers) await close();
    }
  },
};

/**
 * One run at `phase.rate` for the warm-up (so the daimon, CP and tail are measured JIT-warm at that rate, as a
 * long-running daimon is), then the measured run; each run starts its own agent process.
 */
async function measurePhase(ctx: PhaseContext, phase: Phase): Promise<{ figures: BenchFigure[]; notes: string[]; params: Record<string, unknown> }> {
  const { cp, byRun, dispatch, ended, log } = ctx;
  const { rate, targetP99Ms } = phase;
  const seconds = ctx.quick ? phase.seconds.quick : phase.seconds.full;
  const warmSeconds = ctx.quick ? phase.warmSeconds.quick : phase.warmSeconds.full;
  const expected = rate * seconds;
  const at = `at ${rate.toLocaleString('en')}/s`;

  log(`warming up: ${rate} findings/s for ${warmSeconds} s`);
  const warmRun = await dispatch(rate, warmSeconds);
  await waitUntil('the warm-up run to end', () => ended(warmRun), (warmSeconds + 60) * 1000, 100);
  await waitUntil('tail to print the warm-up run', () => (byRun.get(warmRun)?.length ?? 0) >= rate * warmSeconds, 30_000, 50);

  log(`measuring: ${rate} findings/s for ${seconds} s`);
  const samplers = { cp: sampleProcess(cp.pid), daimon: sampleProcess(ctx.daimon.pid), tail: sampleProcess(ctx.tail.pid) };
  const runId = await dispatch(rate, seconds);
  await waitUntil('the run to end', () => ended(runId), (seconds + 60) * 1000, 200);
  // Whatever is still on its way arrives well within this; a loss shows as received < emitted.
  await waitUntil(`tail to print ${expected} findings`, () => (byRun.get(runId)?.length ?? 0) >= expected, 15_000, 50).catch(() => undefined);
  const proc = { cp: samplers.cp.stop(), daimon: samplers.daimon.stop(), tail: samplers.tail.stop() };
  const run = await cp.admin.getRun(runId);
  const arrivals = byRun.get(runId) ?? [];
  const received = new Set(arrivals.map((a) => a.i)).size;
  const latencies = arrivals.map((a) => a.latencyMs);
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  const max = latencies.reduce((a, b) => Math.max(a, b), 0);
  // The first second includes the run's start-up (the custom provider spawning node): reported apart.
  const steady = arrivals.filter((a) => a.i >= rate).map((a) => a.latencyMs);
  // Latency second by second: a queue building up somewhere shows as a rising series, a stall as one bad second.
  const bySecond = Array.from({ length: seconds }, (_, sec) => arrivals.filter((a) => Math.floor(a.i / rate) === sec));
  const perSecond = bySecond.map((list) => `${round(percentile(list.map((a) => a.latencyMs), 50), 0)}/${round(percentile(list.map((a) => a.latencyMs), 99), 0)}`).join(', ');
  const perFinding = (p: ProcSummary): number => ((p.cpuPercent / 100) * p.seconds * 1e6) / Math.max(1, arrivals.length);
  const toCommit = arrivals.map((a) => a.toCommitMs);
  const afterCommit = arrivals.map((a) => a.latencyMs - a.toCommitMs);
  log(`${at}: p50 ${round(p50, 1)} ms, p99 ${round(p99, 1)} ms, max ${round(max, 1)} ms; received ${received} of ${expected}`);
  return {
    params: { rate, seconds, warmSeconds, expected },
    figures: [
      { name: `latency p50 ${at}`, value: round(p50, 1), unit: 'ms' },
      { name: `latency p99 ${at}`, value: round(p99, 1), unit: 'ms', target: `< ${targetP99Ms} ms`, met: p99 < targetP99Ms },
      { name: `latency max ${at}`, value: round(max, 1), unit: 'ms' },
      { name: `latency p99 after the first second ${at}`, value: round(percentile(steady, 99), 1), unit: 'ms' },
      { name: `write → CP commit p50 ${at}`, value: round(percentile(toCommit, 50), 1), unit: 'ms' },
      { name: `write → CP commit p99 ${at}`, value: round(percentile(toCommit, 99), 1), unit: 'ms' },
      { name: `CP commit → tail p50 ${at}`, value: round(percentile(afterCommit, 50), 1), unit: 'ms' },
      { name: `CP commit → tail p99 ${at}`, value: round(percentile(afterCommit, 99), 1), unit: 'ms' },
      { name: `findings printed by tail ${at}`, value: received, unit: 'findings', target: `= ${expected} emitted`, met: received === expected && arrivals.length === expected },
      { name: `CP CPU ${at}`, value: round(proc.cp.cpuPercent, 1), unit: '% of a core' },
      { name: `daimon CPU ${at}`, value: round(proc.daimon.cpuPercent, 1), unit: '% of a core' },
      { name: `tail CPU ${at}`, value: round(proc.tail.cpuPercent, 1), unit: '% of a core' },
      // CPU time per finding moves far less with the machine's load than latency does: the figure to compare runs by.
      { name: `CP CPU per finding ${at}`, value: round(perFinding(proc.cp), 0), unit: 'µs' },
      { name: `daimon CPU per finding ${at}`, value: round(perFinding(proc.daimon), 0), unit: 'µs' },
      { name: `tail CPU per finding ${at}`, value: round(perFinding(proc.tail), 0), unit: 'µs' },
    ],
    notes: [
      `${at}, p50/p99 ms by second of the run (write → tail): ${perSecond}`,
      `${at}: run ${run.status}: the CP counted ${run.findings} findings of the run; tail printed ${arrivals.length} lines for it (${received} distinct); before the window, ${warmSeconds} s at ${rate}/s`,
      `${at}, CPU over the window: CP ${round(proc.cp.cpuPercent, 0)} %, daimon (without the agent process) ${round(proc.daimon.cpuPercent, 0)} %, tail ${round(proc.tail.cpuPercent, 0)} %; RSS max CP ${round(proc.cp.rssMaxMiB, 0)} MiB, daimon ${round(proc.daimon.rssMaxMiB, 0)} MiB`,
    ],
  };
}
