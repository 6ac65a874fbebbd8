import type { BenchFigure, BenchResult, BenchSuite } from '../lib/types.js';
import { sampleProcess } from '../lib/proc-sampler.js';
import { p50p99, round, sleep } from '../lib/stats.js';
import { connectAll } from '../sim/setup.js';
import { leaseFleetBench, releaseFleetBench, sharedNote } from '../sim/shared-fleet.js';

const TARGET_P99_MS = 100;
const TARGET_RSS_MIB = 400;

/** Issue 4 item 1: N real mTLS tunnels on one CP process, heartbeating; round trip p50/p99, CP RSS and CPU per N. */
export const suite: BenchSuite = {
  name: 'tunnel-capacity',
  async run({ quick, log }): Promise<BenchResult> {
    // Quick (a smoke run within the one-minute budget): the size fan-out and the storm take over in quick mode too.
    const sizes = quick ? [100, 300] : [1000, 5000, 10_000];
    // Quick mode shortens the interval so two intervals fit the one-minute budget; the full run uses the CP default.
    const heartbeatMs = quick ? 1000 : 5000;
    const intervals = quick ? 1 : 2;
    const largest = sizes[sizes.length - 1] as number;
    const figures: BenchFigure[] = [];
    const notes: string[] = [];
    // The fleet and CP stay up for fan-out and the reconnect storm when they run next (shared-fleet.ts).
    const lease = await leaseFleetBench('tunnel-capacity', largest, 'cap', ['--heartbeat-interval', `${heartbeatMs / 1000}s`], log);
    const bench = lease.bench;
    let top: string[] = [];
    let ok = false;
    try {
      notes.push(`registered ${largest} hosts in ${round(bench.registerMs / 1000, 1)} s (${round(largest / (bench.registerMs / 1000), 0)}/s: key + CSR in ${bench.fleet.children} simulator processes, CP signing)`);
      figures.push({ name: 'registrations /s', value: round(largest / (bench.registerMs / 1000), 0), unit: 'hosts/s' });
      let connected = 0;
      for (const n of sizes) {
        log(`connecting tunnels ${connected} → ${n}`);
        const c = await connectAll(bench, n);
        notes.push(`N=${n}: ${n - connected} more tunnels connected in ${round(c.connectMs / 1000, 2)} s, all online at the CP after ${round(c.onlineMs / 1000, 2)} s`);
        connected = n;
        // Let the jittered first beats of the newcomers start before measuring.
        await sleep(Math.min(heartbeatMs, 2000));
        bench.fleet.record(true);
        const sampler = sampleProcess(bench.cp.pid, 500);
        await sleep(intervals * heartbeatMs + 500);
        const proc = sampler.stop();
        bench.fleet.record(false);
        const stats = await bench.fleet.stats();
        const { p50, p99 } = p50p99(stats.rttMs);
        const max = stats.rttMs.reduce((a, b) => Math.max(a, b), 0);
        if (stats.connected !== n) notes.push(`N=${n}: only ${stats.connected} tunnels open at the end of the window (${stats.closed} closed)`);
        notes.push(`N=${n}: ${stats.rttMs.length} heartbeat round trips in ${round(proc.seconds, 1)} s; max ${round(max, 1)} ms; per simulator p99 ${stats.perChild.map((s) => round(s.p99, 1)).join(' / ')} ms`);
        log(`N=${n}: rtt p50 ${round(p50, 2)} ms p99 ${round(p99, 2)} ms, CP ${round(proc.cpuPercent, 0)} % CPU, RSS ${round(proc.rssMaxMiB, 0)} MiB`);
        const big = n === largest && !quick;
        figures.push(
          { name: `N=${n} time to connect (all online)`, value: round(c.onlineMs / 1000, 2), unit: 's' },
          { name: `N=${n} heartbeat RTT p50`, value: round(p50, 2), unit: 'ms' },
          { name: `N=${n} heartbeat RTT p99`, value: round(p99, 2), unit: 'ms', target: `< ${TARGET_P99_MS} ms`, met: p99 < TARGET_P99_MS },
          { name: `N=${n} CP RSS (max)`, value: round(proc.rssMaxMiB, 0), unit: 'MiB', ...(big ? { target: `≤ ${TARGET_RSS_MIB} MiB`, met: proc.rssMaxMiB <= TARGET_RSS_MIB } : {}) },
          { name: `N=${n} CP CPU`, value: round(proc.cpuPercent, 1), unit: '% of a core' },
        );
      }
      notes.push(`heartbeat every ${heartbeatMs} ms (first beat jittered across one interval), measured over ${intervals} intervals per N; RTT = heartbeat sent → heartbeat_ack received, on the simulator's clock (includes its own event-loop delay)`);
      notes.push(`tunnels grow in place (${sizes.join(' → ')}) on one CP; simulators bind source addresses 127.0.0.2…; ${bench.fleet.children} simulator processes share the machine's cores with the CP`);
      notes.push(sharedNote('tunnel-capacity', lease));
      ok = true;
    } finally {
      top = await releaseFleetBench('tunnel-capacity', lease, ok);
    }
    if (top.length) notes.push(`CP top self time (--cpu-prof over the whole run): ${top.join('; ')}`);
    return { suite: 'tunnel-capacity', params: { sizes, heartbeatMs, intervals, quick }, figures, notes };
  },
};
