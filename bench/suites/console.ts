import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchFigure, BenchResult, BenchSuite } from '../lib/types.js';
import { OKESU } from '../lib/cp-process.js';
import { measurePresses, type Press } from '../lib/console-keys.js';
import { isFrame, isMem, traceReader } from '../lib/console-trace.js';
import { trend } from '../lib/memory-trend.js';
import { sendFindings, startPacedFeed } from '../lib/paced-feed.js';
import { readProc } from '../lib/proc-sampler.js';
import { connectDaimon, type SimTunnel } from '../lib/sim-daimon.js';
import { hasTmux, startInTmux, type TmuxPane } from '../lib/tmux-console.js';
import { percentile, round, sleep, waitUntil } from '../lib/stats.js';
import { wallNow } from '../lib/tail-process.js';
import { profileSummary } from '../lib/profile-sources.js';
import { connectAll, startFleetBench } from '../sim/setup.js';
import { newId } from '../../src/protocol/ids.js';

const TARGET_INTERACTIVE_MS = 1500;
const TARGET_REDRAW_MS = 30;
/** Issue 17: the console stays under this under a 1,000 findings/s feed, flat over the hour. */
const TARGET_FEED_RSS_MIB = 250;
const FEED_RATE = 1000;
const WIDTH = 120;
const HEIGHT = 40;
/** Full mode's soak under the feed; `OKESU_BENCH_CONSOLE_SOAK_S` overrides it (e.g. 3600 for the hour itself). */
const SOAK_S = Number(process.env['OKESU_BENCH_CONSOLE_SOAK_S'] ?? 150);

/** The console's start-up milestones from its log: epoch ms and ms since its process started, by message. */
function milestones(logFile: string): Record<string, { at: number; sinceStart: number }> {
  const out: Record<string, { at: number; sinceStart: number }> = {};
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { msg?: string; time?: number; sinceProcessStartMs?: number };
    if (entry.msg && entry.time !== undefined && entry.sinceProcessStartMs !== undefined) out[entry.msg] ??= { at: entry.time, sinceStart: entry.sinceProcessStartMs };
  }
  return out;
}

const mib = (pid: number): number => readProc(pid).rssBytes / (1024 * 1024);
const stats = (presses: readonly Press[], pick: (p: Press) => number | undefined): { p50: number; p99: number } => {
  const values = presses.map(pick).filter((v): v is number => v !== undefined);
  return { p50: percentile(values, 50), p99: percentile(values, 99) };
};

/**
 * Issue 7: the real `okesu console` (dist/okesu.js, in tmux at 120×40) against a CP holding a simulated fleet
 * (registered, real tunnels) and stored findings: time to interactive, keypress → redraw latency (from the console's
 * OKESU_CONSOLE_TRACE, cross-checked with capture-pane), and its memory under a steady finding feed.
 */
export const suite: BenchSuite = {
  name: 'console',
  async run({ quick, log }): Promise<BenchResult> {
    if (!(await hasTmux())) throw new Error('tmux is not installed (apt-get install -y tmux)');
    const hosts = quick ? 100 : 10_000;
    const seeders = quick ? 4 : 10;
    const findings = quick ? 2000 : 100_000;
    const soakS = quick ? 4 : SOAK_S;
    const perKey = quick ? 2 : 10;
    const figures: BenchFigure[] = [];
    const notes: string[] = [];
    const work = mkdtempSync(join(tmpdir(), 'okesu-bench-console-'));
    // OKESU_BENCH_CPU_PROF=1 runs the console under --cpu-prof (kept in OKESU_BENCH_PROF_DIR when that is set).
    const profDir = process.env['OKESU_BENCH_CPU_PROF'] === '1' ? (process.env['OKESU_BENCH_PROF_DIR'] ?? join(work, 'prof')) : undefined;
    // The fleet is hosts − seeders simulated daimons; the seeders (here, in this process) carry the findings. All
    // `hosts` register together (the run's shared fleet of that size when a suite before registered one).
    const bench = await startFleetBench(hosts - seeders, 'con', [], log, seeders);
    const tunnels: SimTunnel[] = [];
    let pane: TmuxPane | undefined;
    let top: { self: string[]; total: string[] } | undefined;
    try {
      const ids = bench.spare;
      notes.push(bench.setupNote);
      log(`connecting ${hosts - seeders} tunnels`);
      const c = await connectAll(bench, hosts - seeders);
      tunnels.push(...(await Promise.all(ids.map((id) => connectDaimon(bench.cp.port, id)))));
      await waitUntil(`${hosts} hosts online`, async () => (await bench.online()) >= hosts, 60_000, 250);
      log(`storing ${findings} findings through ${seeders} tunnels`);
      const s0 = performance.now();
      await Promise.all(tunnels.map((t) => sendFindings(t.ws, newId('r'), findings / seeders)));
      const seedS = (performance.now() - s0) / 1000;
      const summary = await bench.cp.admin.findingsSummary({});
      notes.push(`CP: ${hosts} hosts registered and online (${hosts - seeders} simulated in ${bench.fleet.children} processes, online after ${round(c.onlineMs / 1000, 1)} s; ${seeders} seeding tunnels here), ${summary.total} findings stored in ${round(seedS, 1)} s through the tunnels`);

      // (1) Spawn → interactive: the first screen showing the whole fleet in the header.
      const traceFile = join(work, 'trace.jsonl');
      const trace = traceReader(traceFile);
      const node = profDir ? [process.execPath, '--cpu-prof', '--cpu-prof-dir', profDir] : [process.execPath];
      const t0 = wallNow();
      const logFile = join(work, 'console.log');
      pane = await startInTmux([...node, OKESU, 'console', '--log', logFile], { OKESU_CONFIG: join(bench.cp.stateDir, 'admin.yaml'), OKESU_CONSOLE_TRACE: traceFile }, WIDTH, HEIGHT);
      const loaded = new RegExp(`\\b${hosts}\\s+online|\\b${hosts.toLocaleString('en')}\\s+online`);
      const p = pane;
      const seen = await waitUntil('the console to show the fleet', async () => (loaded.test(await p.screen()) ? wallNow() : undefined), 60_000, 10);
      const frames = trace.poll().filter((e) => isFrame(e) && e.ts <= seen);
      const interactiveMs = (frames.at(-1)?.ts ?? seen) - t0;
      const firstFrameMs = (frames[0]?.ts ?? Number.NaN) - t0;
      const rssLoaded = mib(pane.pid);
      log(`interactive after ${round(interactiveMs, 0)} ms (first frame ${round(firstFrameMs, 0)} ms, screen seen at ${round(seen - t0, 0)} ms), RSS ${round(rssLoaded, 0)} MiB`);
      const m = milestones(logFile);
      const since = (name: string): string => (m[name] ? `${round(m[name].at - t0, 0)} ms` : '?');
      notes.push(`start, ms after the spawn: process started ${m['console started'] ? round(m['console started'].at - m['console started'].sinceStart - t0, 0) : '?'}, console module loaded ${since('console started')}, first frame ("loading…") ${round(firstFrameMs, 0)}, snapshot of the CP applied ${since('console loaded')}, the frame with the loaded fleet ${round(interactiveMs, 0)} (the last frame written before capture-pane first showed "${hosts} online", at ${round(seen - t0, 0)})`);
      figures.push(
        { name: `spawn → fleet shown (${hosts} hosts, ${findings} findings)`, value: round(interactiveMs, 0), unit: 'ms', target: `< ${TARGET_INTERACTIVE_MS} ms`, met: interactiveMs < TARGET_INTERACTIVE_MS },
        { name: 'console RSS once loaded', value: round(rssLoaded, 1), unit: 'MiB' },
      );

      // (2) Keypress → redraw, idle feed: j/k move the selection, enter/esc drill into a host and back, tab cycles
      // the findings sub-views.
      await sleep(1000);
      const keys = [
        ...Array<string>(perKey * 2).fill('j'), ...Array<string>(perKey * 2).fill('k'),
        ...Array.from({ length: perKey * 2 }, (_, i) => (i % 2 === 0 ? 'Enter' : 'Escape')),
      ];
      const presses = await measurePresses(pane, trace, keys, { gapMs: 60, crossCheck: true });
      await pane.key('2');
      await sleep(500);
      presses.push(...(await measurePresses(pane, trace, Array<string>(perKey).fill('Tab'), { gapMs: 60, crossCheck: true })));
      await pane.key('1');
      const redraw = stats(presses, (x) => x.redrawMs);
      const viaTmux = stats(presses, (x) => x.sendToFrameMs);
      const screen = stats(presses, (x) => x.screenMs);
      const byKey = ['j', 'k', 'Enter', 'Escape', 'Tab'].map((k) => {
        const s = stats(presses.filter((x) => x.key === k), (x) => x.redrawMs);
        return `${k} ${round(s.p50, 1)}/${round(s.p99, 1)}`;
      });
      figures.push(
        { name: `keypress → redraw p50 (${presses.length} presses)`, value: round(redraw.p50, 1), unit: 'ms' },
        { name: `keypress → redraw p99 (${presses.length} presses)`, value: round(redraw.p99, 1), unit: 'ms', target: `< ${TARGET_REDRAW_MS} ms`, met: redraw.p99 < TARGET_REDRAW_MS },
        { name: 'send-keys → screen changed p50 (capture-pane cross-check)', value: round(screen.p50, 1), unit: 'ms' },
      );
      notes.push(`keypress → redraw = the console read the key (stdin.read) → its next write to the terminal (OKESU_CONSOLE_TRACE); p50/p99 ms by key: ${byKey.join(', ')}; tmux send-keys → that write p50 ${round(viaTmux.p50, 1)} / p99 ${round(viaTmux.p99, 1)} ms; send-keys → capture-pane shows a change p50 ${round(screen.p50, 1)} / p99 ${round(screen.p99, 1)} ms (includes tmux and the polling)`);

      // (3) Memory under a steady feed, sampled every second: RSS (from /proc) and the JS heap (the console's trace).
      // The first third (at least 30 s) is warm-up — the feed ring filling, V8 growing its heap to the allocation
      // rate. After it, the heap's floor (each 10 s window's lowest point: what survives collections) says whether
      // anything accumulates; RSS says what the process costs. Both saw-tooth with a period of minutes (V8 lets the
      // heap grow between full collections), so a verdict on "flat" needs a soak of 10 minutes or more.
      log(`feeding ${FEED_RATE} findings/s for ${soakS} s`);
      const feed = startPacedFeed((tunnels[0] as SimTunnel).ws, newId('r'), FEED_RATE);
      const rss: [number, number][] = [];
      const heap: [number, number][] = [];
      const f0 = performance.now();
      const fw = wallNow();
      let framesDuringFeed = 0;
      while (performance.now() - f0 < soakS * 1000) {
        await sleep(1000);
        rss.push([(performance.now() - f0) / 60_000, mib(pane.pid)]);
        for (const e of trace.poll()) {
          if (isFrame(e)) framesDuringFeed++;
          else if (isMem(e) && e.ts >= fw) heap.push([(e.ts - fw) / 60_000, e.mem.heapUsed / (1024 * 1024)]);
        }
      }
      const underFeed = await measurePresses(pane, trace, [...Array<string>(perKey).fill('j'), ...Array<string>(perKey).fill('k')], { gapMs: 60, crossCheck: false });
      feed.stop();
      const warmupMin = Math.min(soakS / 2, Math.max(30, soakS / 3)) / 60;
      const rssTrend = trend(rss, warmupMin, 60);
      const heapTrend = trend(heap, warmupMin, 60, 10 / 60);
      const redrawFeed = stats(underFeed, (x) => x.redrawMs);
      const screenText = await pane.screen();
      // A few seconds (quick mode) only see the feed ring filling: no verdict, no extrapolation then.
      figures.push(
        { name: `console RSS after ${soakS} s at ${FEED_RATE} findings/s`, value: round(rssTrend.last, 1), unit: 'MiB' },
        { name: 'console RSS max under the feed', value: round(rssTrend.max, 1), unit: 'MiB', ...(quick ? {} : { target: `≤ ${TARGET_FEED_RSS_MIB} MiB`, met: rssTrend.max <= TARGET_FEED_RSS_MIB }) },
        { name: 'console JS heap lowest after warm-up (live set, at most)', value: round(Math.min(...heap.filter(([m]) => m >= warmupMin).map(([, v]) => v)), 1), unit: 'MiB' },
        ...(heapTrend.points < 2 ? [] : [{
          name: 'console JS heap floor slope after warm-up', value: round(heapTrend.perMin, 2), unit: 'MiB/min',
          ...(quick ? {} : { target: '< 1 MiB/min over ≥ 10 min', ...(soakS >= 600 && { met: heapTrend.perMin < 1 }) }),
        }]),
        { name: 'console RSS slope after warm-up', value: round(rssTrend.perMin, 2), unit: 'MiB/min' },
        ...(quick ? [] : [{ name: 'console RSS extrapolated to 1 h of feed', value: round(rssTrend.atHorizon, 0), unit: 'MiB' }]),
        { name: 'keypress → redraw p99 under the feed', value: round(redrawFeed.p99, 1), unit: 'ms', target: `< ${TARGET_REDRAW_MS} ms`, met: redrawFeed.p99 < TARGET_REDRAW_MS },
      );
      notes.push(`feed: ${feed.sent()} findings sent, ${feed.acked()} acknowledged by the CP in ${soakS} s over one seeding tunnel; the console wrote ${framesDuringFeed} frames meanwhile (${round(framesDuringFeed / soakS, 1)}/s); keypress → redraw under it p50 ${round(redrawFeed.p50, 1)} / p99 ${round(redrawFeed.p99, 1)} ms`);
      notes.push(`memory: RSS once loaded ${round(rssLoaded, 1)} MiB, under the feed max ${round(rssTrend.max, 1)}, last ${round(rssTrend.last, 1)} MiB, slope ${round(rssTrend.perMin, 2)} MiB/min over ${rssTrend.points} samples after a ${round(warmupMin * 60, 0)} s warm-up; JS heap last ${round(heap.at(-1)?.[1] ?? Number.NaN, 1)} MiB, max ${round(heapTrend.max, 1)} MiB, floor slope ${round(heapTrend.perMin, 2)} MiB/min over ${heapTrend.points} ten-second windows`);
      notes.push(`1 h extrapolation = last + slope × the remaining ${round(60 - soakS / 60, 1)} min, never below the last value (a falling window caught a full collection): heap floor ${round(heapTrend.last, 0)} → ${round(heapTrend.atHorizon, 0)} MiB, RSS ${round(rssTrend.last, 0)} → ${round(rssTrend.atHorizon, 0)} MiB; over ${round(soakS / 60, 1)} min a slope within ±1 MiB/min is as much the collector as growth — OKESU_BENCH_CONSOLE_SOAK_S=3600 runs the hour itself`);
      notes.push(`screen at the end (first line): ${(screenText.split('\n')[0] ?? '').trim()}`);
      trace.close();

      // Quit, so a --cpu-prof profile is written.
      await pane.key('q');
      await waitUntil('the console to exit', () => {
        try {
          readProc(p.pid);
          return false;
        } catch {
          return true;
        }
      }, 10_000, 50).catch(() => undefined);
    } finally {
      await pane?.kill();
      for (const t of tunnels) t.close();
      await bench.close();
      if (profDir) {
        try {
          top = profileSummary(profDir, 12);
        } catch {
          top = { self: ['(no profile written)'], total: [] };
        }
      }
      rmSync(work, { recursive: true, force: true });
    }
    if (top) notes.push(`console --cpu-prof over its whole life, top self time: ${top.self.join('; ')}; top total time: ${top.total.join('; ')}`);
    return { suite: 'console', params: { hosts, findings, seeders, feedRate: FEED_RATE, soakS, size: `${WIDTH}x${HEIGHT}`, quick }, figures, notes };
  },
};
