import { resolve } from 'node:path';
import type { BenchResult, BenchSuite } from '../lib/types.js';
import { startCpChild } from '../lib/cp-process.js';
import { startDaimonChild } from '../lib/daimon-process.js';
import { sampleProcess } from '../lib/proc-sampler.js';
import { percentile, round, waitUntil } from '../lib/stats.js';
import { startTail, type TailLine } from '../lib/tail-process.js';

const AGENTS = resolve(import.meta.dirname, '../agents');
const AGENT = 'steady-findings';
const HOSTNAME = 'bench-e2e';
const RATE = 1000;
const TARGET_P99_MS = 100;

interface Arrival {
  i: number;
  latencyMs: number;
  /** Agent write → the CP's ingest commit (`received_at`, ms resolution): the daimon and tunnel share. */
  toCommitMs: number;
}

/**
 * Issue 4 item 4: a finding written by an agent on a real daimon until a real `okesu tail --json` prints it, at a
 * steady 1,000 findings/s. Every part is the shipped product: `okesu cp serve`, `okesu daemon` (registered with a join
 * token), a `custom` agent dispatched through the operator API, and `okesu tail --json`; all on this machine's clock.
 */
export const suite: BenchSuite = {
  name: 'e2e-latency',
  async run({ quick, log }): Promise<BenchResult> {
    const seconds = quick ? 3 : 20;
    const warmSeconds = quick ? 1 : 2;
    const expected = RATE * seconds;
    const cp = await startCpChild();
    const closers: (() => Promise<void>)[] = [() => cp.close()];
    try {
      const daimon = await startDaimonChild(cp, HOSTNAME, ['--agents', AGENTS]);
      closers.unshift(() => daimon.close());
      const byRun = new Map<string, Arrival[]>();
      let printed = 0;
      const onLine = ({ at, line }: TailLine): void => {
        printed++;
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
      // (it starts from the head, without --since). Then one run at the full rate, so the daimon, CP and tail are
      // measured warm (JIT-compiled), as a long-running daimon is; each measured run still starts its own agent.
      log('warming up until tail prints findings');
      await waitUntil('tail to print a warm-up finding', async () => {
        if (tail.child.exitCode !== null) throw new Error(`tail exited ${tail.child.exitCode}: ${tail.stderr()}`);
        const runId = await dispatch(200, 0.5);
        await waitUntil('the warm-up run to end', () => ended(runId), 30_000, 100);
        return waitUntil('tail output', () => (byRun.get(runId)?.length ?? 0) > 0, 3000, 50).catch(() => false);
      }, 60_000, 0);
      const warmRun = await dispatch(RATE, warmSeconds);
      await waitUntil('the warm-up run to end', () => ended(warmRun), (warmSeconds + 60) * 1000, 100);
      await waitUntil('tail to print the warm-up run', () => (byRun.get(warmRun)?.length ?? 0) >= RATE * warmSeconds, 30_000, 50);
      const warmup = printed;

      log(`measuring: ${RATE} findings/s for ${seconds} s`);
      const samplers = { cp: sampleProcess(cp.pid), daimon: sampleProcess(daimon.pid), tail: sampleProcess(tail.pid) };
      const runId = await dispatch(RATE, seconds);
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
      const steady = arrivals.filter((a) => a.i >= RATE).map((a) => a.latencyMs);
      // Latency second by second: a queue building up somewhere shows as a rising series, a stall as one bad second.
      const bySecond = Array.from({ length: seconds }, (_, sec) => arrivals.filter((a) => Math.floor(a.i / RATE) === sec));
      const perSecond = bySecond.map((list) => `${round(percentile(list.map((a) => a.latencyMs), 50), 0)}/${round(percentile(list.map((a) => a.latencyMs), 99), 0)}`).join(', ');
      const toCommit = arrivals.map((a) => a.toCommitMs);
      const afterCommit = arrivals.map((a) => a.latencyMs - a.toCommitMs);
      log(`p50 ${round(p50, 1)} ms, p99 ${round(p99, 1)} ms, max ${round(max, 1)} ms; received ${received} of ${expected}`);
      return {
        suite: 'e2e-latency',
        params: { rate: RATE, seconds, warmSeconds, expected, quick },
        figures: [
          { name: 'latency p50', value: round(p50, 1), unit: 'ms' },
          { name: 'latency p99', value: round(p99, 1), unit: 'ms', target: `< ${TARGET_P99_MS} ms`, met: p99 < TARGET_P99_MS },
          { name: 'latency max', value: round(max, 1), unit: 'ms' },
          { name: 'latency p99 after the first second', value: round(percentile(steady, 99), 1), unit: 'ms' },
          { name: 'write → CP commit p50', value: round(percentile(toCommit, 50), 1), unit: 'ms' },
          { name: 'write → CP commit p99', value: round(percentile(toCommit, 99), 1), unit: 'ms' },
          { name: 'CP commit → tail p50', value: round(percentile(afterCommit, 50), 1), unit: 'ms' },
          { name: 'CP commit → tail p99', value: round(percentile(afterCommit, 99), 1), unit: 'ms' },
          { name: 'findings printed by tail', value: received, unit: 'findings', target: `= ${expected} emitted`, met: received === expected && arrivals.length === expected },
          { name: 'CP CPU', value: round(proc.cp.cpuPercent, 1), unit: '% of a core' },
          { name: 'daimon CPU', value: round(proc.daimon.cpuPercent, 1), unit: '% of a core' },
        ],
        notes: [
          `path: agent \`${AGENT}\` (bench/agents/${AGENT}.md, provider custom, a node script) writes ${RATE} finding lines/s for ${seconds} s → real \`okesu daemon\` (custom provider, spool with fdatasync, sender) → mTLS tunnel → \`okesu cp serve\` (ingest, SQLite commit, live stream) → \`okesu tail --json\` child, whose stdout lines this process timestamps on arrival`,
          `latency = arrival of the line here − \`attributes.emitted_at\` the agent wrote into the finding (both performance.timeOrigin + performance.now(), same machine); includes tail's parsing and printing and this process's pipe read. Split at the finding's \`received_at\` (the CP's clock when its ingest transaction began, ms resolution): write → CP commit is the agent pipe, daimon relay/spool/sender and tunnel; CP commit → tail is the commit itself, the stream hub and tail`,
          `p50/p99 ms by second of the run (write → tail): ${perSecond}`,
          `run ${run.status}: the CP counted ${run.findings} findings of the run; tail printed ${arrivals.length} lines for it (${received} distinct); before the window, ${warmup} warm-up findings (short runs until tail printed one, then ${warmSeconds} s at ${RATE}/s)`,
          `CPU over the window: CP ${round(proc.cp.cpuPercent, 0)} %, daimon (without the agent process) ${round(proc.daimon.cpuPercent, 0)} %, tail ${round(proc.tail.cpuPercent, 0)} %; RSS max CP ${round(proc.cp.rssMaxMiB, 0)} MiB, daimon ${round(proc.daimon.rssMaxMiB, 0)} MiB`,
        ],
      };
    } finally {
      for (const close of closers) await close();
    }
  },
};
