import type { BenchFigure, BenchResult, BenchSuite } from '../lib/types.js';
import { sampleProcess } from '../lib/proc-sampler.js';
import { round, sleep, waitUntil } from '../lib/stats.js';
import { connectAll } from '../sim/setup.js';
import { leaseFleetBench, releaseFleetBench, sharedNote } from '../sim/shared-fleet.js';

const TARGET_ACK_MS = 500;
const AGENT = 'bench-trivial';

/** Issue 4 item 3: one dispatch of a trivial agent to every one of N connected hosts; time to the last acknowledgement and the last run end. */
export const suite: BenchSuite = {
  name: 'fan-out',
  async run({ quick, log }): Promise<BenchResult> {
    const n = quick ? 300 : 10_000;
    const figures: BenchFigure[] = [];
    const notes: string[] = [];
    // On the CP and open tunnels tunnel-capacity left when it ran just before (shared-fleet.ts), else its own.
    const lease = await leaseFleetBench('fan-out', n, 'fan', [], log);
    const bench = lease.bench;
    let top: string[] = [];
    let ok = false;
    try {
      if (lease.before.length === 0) {
        log(`connecting ${n} tunnels`);
        const c = await connectAll(bench, n);
        notes.push(`${bench.setupNote}; ${n} tunnels online in ${round(c.onlineMs / 1000, 1)} s`);
      }
      notes.push(sharedNote('fan-out', lease));
      await sleep(1000);

      log(`dispatching ${n} runs in one POST /v1/runs (hosts: [${n} names])`);
      const sampler = sampleProcess(bench.cp.pid, 250);
      const t0 = Date.now();
      const answer = await bench.cp.admin.createRuns({ agent: AGENT, hosts: bench.fleet.hostnames, prompt: '', dispatch: 'tunnel', timeout_ms: 60_000 });
      const postsDone = Date.now() - t0;
      if (answer.runs.length !== n || answer.failed > 0) throw new Error(`the fan-out answered ${answer.runs.length} runs, ${answer.failed} failed; expected ${n} dispatched`);
      const final = await waitUntil('every run acknowledged and ended', async () => {
        const s = await bench.fleet.dispatchStats();
        return s.ackAt.length >= n && s.endAckAt.length >= n ? s : undefined;
      }, 120_000, 100);
      const proc = sampler.stop();
      const lastAck = final.ackAt.reduce((a, b) => Math.max(a, b), 0) - t0;
      const lastEnd = final.endAckAt.reduce((a, b) => Math.max(a, b), 0) - t0;
      const firstAck = final.ackAt.reduce((a, b) => Math.min(a, b), Infinity) - t0;

      // The CP's own view: the newest runs (the list endpoint returns at most 1,000) all completed.
      const runs = await bench.cp.admin.listRuns({ limit: 1000 });
      const completed = runs.filter((r) => r.status === 'completed').length;
      notes.push(`CP check: ${completed} of the newest ${runs.length} runs in GET /v1/runs are completed`);
      log(`last ack ${lastAck} ms, last end ${lastEnd} ms, POSTs done ${postsDone} ms`);

      figures.push(
        { name: `time to last dispatch_ack (${n} hosts)`, value: lastAck, unit: 'ms', target: `< ${TARGET_ACK_MS} ms`, met: lastAck < TARGET_ACK_MS },
        { name: `time to last run_end stored (${n} hosts)`, value: lastEnd, unit: 'ms' },
        { name: `time to answer the fan-out POST /v1/runs (${n} runs)`, value: postsDone, unit: 'ms' },
        { name: 'dispatch rate (runs created and sent / s)', value: round(n / (postsDone / 1000), 0), unit: 'runs/s' },
        { name: 'time to first dispatch_ack', value: firstAck, unit: 'ms' },
        { name: 'CP CPU during fan-out', value: round(proc.cpuPercent, 0), unit: '% of a core' },
        { name: 'CP RSS during fan-out (max)', value: round(proc.rssMaxMiB, 0), unit: 'MiB' },
      );
      notes.push(`times from the first POST /v1/runs (epoch ms on one machine); dispatch_ack time = when the simulator sent it; run end = when the CP acknowledged the run_end record (stored)`);
      notes.push(`one fan-out request (hosts: ${n} names): every run created in one transaction, dispatches sent in chunks; the POST answers after the last send, so acks may precede it (last ack - POST answer = ${lastAck - postsDone} ms)`);
      ok = true;
    } finally {
      top = await releaseFleetBench('fan-out', lease, ok);
    }
    if (top.length) notes.push(`CP top self time (--cpu-prof over the whole run, idle excluded): ${top.join('; ')}`);
    return { suite: 'fan-out', params: { hosts: n, requests: 1, agent: AGENT, quick }, figures, notes };
  },
};
