import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BenchResult, BenchSuite } from '../lib/types.js';
import { startCpChild, spawnNode, type CpChild } from '../lib/cp-process.js';
import { childScript } from '../lib/child-script.js';
import type { HostIdentity } from '../lib/register-host.js';
import { connectDaimon, countCpAcks, findingFrameBuilder, openTunnel, Streamer, type AckCounter } from '../lib/sim-daimon.js';
import { sampleProcess, type ProcSummary } from '../lib/proc-sampler.js';
import { round, sleep, waitUntil } from '../lib/stats.js';
import { topSelfTime } from '../sim/cpu-profile.js';
import { newId } from '../../src/protocol/ids.js';
import type WebSocket from 'ws';

const RECORDS_PER_FRAME = 500;
/** The real sender's bound on un-acknowledged records per daimon. */
const MAX_IN_FLIGHT = 5000;
const TARGET_RATE = 50_000;
const TARGET_RATIO = 0.3;

interface Phase {
  rate: number;
  /** Acknowledged records / seconds from the first send until everything was acknowledged: steadier than the window when commits are huge. */
  overallRate: number;
  acked: number;
  proc: ProcSummary;
  /** This (client) process over the same window: when it is near 100 %, the clients, not the server, set the pace. */
  clients: ProcSummary;
  /** Seconds from the end of the window until every sent record was acknowledged. */
  drainSeconds: number;
  /** Sockets the server closed during the run, with the close codes seen. */
  closed: number;
  closeCodes: number[];
}

/** Runs streamers over `sockets` for `seconds` after a warm-up; the rate counts acknowledged records in the window only. */
async function measure(sockets: WebSocket[], count: AckCounter, pid: number, seconds: number, warmupMs: number): Promise<Phase> {
  const streamers = sockets.map((ws) => new Streamer(ws, findingFrameBuilder(newId('r'), RECORDS_PER_FRAME), RECORDS_PER_FRAME, MAX_IN_FLIGHT, count));
  const start = performance.now();
  for (const s of streamers) s.start();
  await sleep(warmupMs);
  const total = (): number => streamers.reduce((a, s) => a + s.acked, 0);
  const sampler = sampleProcess(pid);
  const self = sampleProcess(process.pid);
  const from = total();
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const window = total() - from;
  const elapsed = (performance.now() - t0) / 1000;
  const proc = sampler.stop();
  const clients = self.stop();
  const d0 = performance.now();
  await Promise.all(streamers.map((s) => s.drain()));
  const closed = streamers.filter((s) => s.closedWith);
  return {
    rate: window / elapsed, overallRate: total() / ((performance.now() - start) / 1000), acked: total(), proc, clients, drainSeconds: (performance.now() - d0) / 1000,
    closed: closed.length, closeCodes: [...new Set(closed.map((s) => s.closedWith?.code ?? 0))],
  };
}

/** The ceiling: the same clients and frames against a bare TLS `ws` echo server in its own process. */
async function measureCeiling(cp: CpChild, identities: HostIdentity[], seconds: number, warmupMs: number): Promise<Phase> {
  const { script, execArgv } = await childScript(resolve(import.meta.dirname, '../lib/echo-server.ts'));
  const echo = spawnNode([...execArgv, script, join(cp.stateDir, 'server.key'), join(cp.stateDir, 'server.crt'), join(cp.stateDir, 'ca.crt')]);
  try {
    const port = Number(
      (await waitUntil('the echo server to listen', () => {
        if (echo.child.exitCode !== null) throw new Error(`echo server exited: ${echo.stderr()}`);
        return /listening (\d+)/.exec(echo.stderr())?.[1];
      })),
    );
    const sockets = await Promise.all(identities.map((id) => openTunnel(port, id, '/')));
    try {
      return await measure(sockets, () => RECORDS_PER_FRAME, echo.pid, seconds, warmupMs);
    } finally {
      for (const ws of sockets) ws.terminate();
    }
  } finally {
    await echo.stop();
  }
}

/** Issue 4 item 2: findings/s stored by one CP process from N simulated daimons, against a bare `ws` echo ceiling. */
export const ingestSuite: BenchSuite = {
  name: 'ingest',
  async run({ quick, log }): Promise<BenchResult> {
    const daimons = quick ? 10 : 100;
    const seconds = quick ? 2 : 20;
    const warmupMs = quick ? 500 : 2000;
    const notes: string[] = [];
    // OKESU_BENCH_CPU_PROF=1 runs the CP under --cpu-prof (through startCpChild's BENCH_CPU_PROF) and notes its top self time.
    const profDir = process.env['OKESU_BENCH_CPU_PROF'] === '1' ? mkdtempSync(join(tmpdir(), 'okesu-bench-prof-')) : undefined;
    if (profDir) process.env['BENCH_CPU_PROF'] = profDir;
    const cp = await startCpChild();
    if (profDir) delete process.env['BENCH_CPU_PROF'];
    try {
      const join = await cp.admin.createToken({ kind: 'join', uses: daimons, name: 'bench-ingest' });
      log(`registering ${daimons} hosts through /v1/register`);
      const identities: HostIdentity[] = [];
      for (let i = 0; i < daimons; i += 10) {
        const batch = Array.from({ length: Math.min(10, daimons - i) }, (_, k) => cp.register(`bench-ingest-${String(i + k).padStart(4, '0')}`, join.token));
        identities.push(...(await Promise.all(batch)));
      }

      log(`ceiling: ${daimons} clients → TLS ws echo, ${seconds} s`);
      const ceiling = await measureCeiling(cp, identities, seconds, warmupMs);

      log(`ingest: ${daimons} daimons → CP, ${seconds} s`);
      const tunnels = await Promise.all(identities.map((id) => connectDaimon(cp.port, id)));
      await waitUntil('every host online', async () => (await cp.admin.hosts()).filter((h) => h.state === 'online').length === daimons, 30_000, 200);
      let ingest: Phase;
      try {
        ingest = await measure(tunnels.map((t) => t.ws), countCpAcks, cp.pid, seconds, warmupMs);
      } finally {
        for (const t of tunnels) t.close();
      }
      const summary = await cp.admin.findingsSummary({});
      const exact = summary.total === ingest.acked;
      if (ingest.closed > 0) notes.push(`the CP closed ${ingest.closed} of ${daimons} tunnels during the run (codes ${ingest.closeCodes.join(', ')}); their in-flight records were stored or not but never acknowledged, so stored ≥ acked`);
      notes.push(`stored check: GET /v1/findings/summary total ${summary.total} vs ${ingest.acked} acknowledged → ${exact ? 'exact' : 'MISMATCH'}`);
      notes.push(`${RECORDS_PER_FRAME} finding records per frame, ≤ ${MAX_IN_FLIGHT} un-acknowledged per daimon; ceiling = echo messages/s × ${RECORDS_PER_FRAME}`);
      notes.push(`after the window the CP took ${round(ingest.drainSeconds, 1)} s to acknowledge the ≤ ${daimons * MAX_IN_FLIGHT} records in flight (echo: ${round(ceiling.drainSeconds, 1)} s)`);
      notes.push(`echo server: ${round(ceiling.proc.cpuPercent, 0)} % CPU (simulated clients ${round(ceiling.clients.cpuPercent, 0)} %); CP during ingest: ${round(ingest.proc.cpuPercent, 0)} % CPU, RSS max ${round(ingest.proc.rssMaxMiB, 0)} MiB (simulated daimons ${round(ingest.clients.cpuPercent, 0)} %)`);

      const ratio = ingest.rate / ceiling.rate;
      return {
        suite: 'ingest',
        params: { daimons, seconds, warmupMs, recordsPerFrame: RECORDS_PER_FRAME, maxInFlight: MAX_IN_FLIGHT },
        figures: [
          {
            name: 'findings stored /s', value: round(ingest.rate, 0), unit: 'findings/s', target: `≥ ${TARGET_RATE.toLocaleString('en')}`, met: ingest.rate >= TARGET_RATE,
            baseline: { name: 'TLS ws echo ceiling', value: round(ceiling.rate, 0), ratio: round(ratio, 3) },
          },
          {
            name: 'findings stored /s, first send → all acked', value: round(ingest.overallRate, 0), unit: 'findings/s', target: `≥ ${TARGET_RATE.toLocaleString('en')}`, met: ingest.overallRate >= TARGET_RATE,
            baseline: { name: 'TLS ws echo, same', value: round(ceiling.overallRate, 0), ratio: round(ingest.overallRate / ceiling.overallRate, 3) },
          },
          { name: 'share of ceiling', value: round(ratio, 3), unit: '×', target: `≥ ${TARGET_RATIO}`, met: ratio >= TARGET_RATIO },
          { name: 'CP CPU during ingest', value: round(ingest.proc.cpuPercent, 0), unit: '% of a core' },
          { name: 'CP RSS during ingest (max)', value: round(ingest.proc.rssMaxMiB, 0), unit: 'MiB' },
          { name: 'findings acked = stored', value: summary.total, unit: 'findings', target: `= ${ingest.acked}`, met: exact },
          { name: 'tunnels dropped by the CP', value: ingest.closed, unit: 'tunnels', target: '= 0', met: ingest.closed === 0 },
        ],
        notes,
      };
    } finally {
      await cp.close();
      if (profDir) {
        try {
          notes.push(`CP top self time: ${topSelfTime(profDir, 8).join('; ')}`);
        } finally {
          rmSync(profDir, { recursive: true, force: true });
        }
      }
    }
  },
};
