import https from 'node:https';
import { spawn } from 'node:child_process';
import { loadavg, setPriority } from 'node:os';
import { resolve } from 'node:path';
import { generateHostKeyAndCsr } from '../../src/pki/host-key.js';
import { formatToken } from '../../src/protocol/tokens.js';
import type { BenchFigure, BenchResult, BenchSuite } from '../lib/types.js';
import { probe, type ProbeSummary } from '../lib/api-prober.js';
import { sampleProcess } from '../lib/proc-sampler.js';
import { p50p99, round, sleep } from '../lib/stats.js';
import { connectAll, startFleetBench, type FleetBench } from '../sim/setup.js';
import type { FloodCounts } from '../sim/register-flood.js';

const FLOODER = resolve(import.meta.dirname, '../sim/register-flood.ts');
/** Issue 13: a flood of bad registrations leaves heartbeat p99 and API latency within 2× of the quiet figure. */
const TARGET_RATIO = 2;
const FLOOD_CLIENTS = 4;
const FLOOD_IN_FLIGHT = 4;
/** Bad registrations per second in all: the issue saw 200 in 2.6 s (~77/s); this is about four times that. */
const FLOOD_RATE_PER_S = 300;
/** Flood source addresses start here, clear of the simulators' 127.0.0.2…. */
const FLOOD_FIRST_ADDRESS = 50;

interface Window {
  rttMs: number[];
  api: ProbeSummary;
  cpuPercent: number;
  /** The simulators' own event-loop delay p99 (the part of the heartbeat RTT that is not the CP's). */
  simLoopP99Ms: number;
  flood?: FloodCounts;
}

type Kind = 'quiet' | 'kept-alive flood' | 'fresh-connection flood';

/** `GET /v1/hosts` with the admin token over one kept-alive connection, as the console polls it. */
function hostsCall(port: number, ca: string, token: string): () => Promise<void> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca });
  return () =>
    new Promise((ok, fail) => {
      const req = https.get({ host: '127.0.0.1', port, path: '/v1/hosts', agent, ca, headers: { authorization: `Bearer ${token}` }, timeout: 30_000 }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? ok() : fail(new Error(`HTTP ${res.statusCode}`))));
        res.on('error', fail);
      });
      req.on('timeout', () => req.destroy(new Error('no answer within 30 s')));
      req.on('error', fail);
    });
}

/** Runs the flood process; resolves with its counts once it ends (it stops itself after `durationMs`). */
function runFlood(config: Record<string, unknown>): Promise<FloodCounts> {
  const child = spawn(process.execPath, ['--import', 'tsx', FLOODER, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit'] });
  // The attacker's CPU is not the CP's: on this one machine the flooder yields to the CP and the simulators.
  if (child.pid !== undefined) setPriority(child.pid, 19);
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  const killer = setTimeout(() => child.kill('SIGKILL'), Number(config['durationMs']) + 30_000);
  return new Promise((ok, fail) => {
    child.on('exit', (code) => {
      clearTimeout(killer);
      try {
        ok(JSON.parse(out.trim()) as FloodCounts);
      } catch {
        fail(new Error(`flood process exited ${code} without counts`));
      }
    });
  });
}

/** One measuring window: heartbeat round trips, `GET /v1/hosts` latency and CP CPU, with or without a flood. */
async function measure(bench: FleetBench, windowMs: number, api: () => Promise<void>, flood?: Record<string, unknown>): Promise<Window> {
  bench.fleet.record(true);
  await bench.fleet.loopDelay(true);
  const sampler = sampleProcess(bench.cp.pid, 500);
  const prober = probe(api, 100);
  const flooding = flood ? runFlood({ ...flood, durationMs: windowMs }) : undefined;
  await sleep(windowMs);
  const apiSummary = await prober.stop();
  const proc = sampler.stop();
  bench.fleet.record(false);
  const stats = await bench.fleet.stats();
  const loop = await bench.fleet.loopDelay(false);
  const simLoopP99Ms = loop.reduce((a, l) => Math.max(a, l.p99Ms), 0);
  return { rttMs: stats.rttMs, api: apiSummary, cpuPercent: proc.cpuPercent, simLoopP99Ms, ...(flooding && { flood: await flooding }) };
}

/** Windows of one kind from several rounds, pooled. */
function pool(windows: Window[]): Window & { rtt: { p50: number; p99: number }; apiP: { p50: number; p99: number } } {
  const rttMs = windows.flatMap((w) => w.rttMs);
  const latencies = windows.flatMap((w) => w.api.latenciesMs);
  const floods = windows.flatMap((w) => (w.flood ? [w.flood] : []));
  const byStatus: Record<string, number> = {};
  for (const f of floods) for (const [k, n] of Object.entries(f.byStatus)) byStatus[k] = (byStatus[k] ?? 0) + n;
  const api: ProbeSummary = {
    latenciesMs: latencies, failures: windows.reduce((a, w) => a + w.api.failures, 0), ...p50p99(latencies),
    max: latencies.reduce((a, b) => Math.max(a, b), 0),
  };
  return {
    rttMs, api, rtt: p50p99(rttMs), apiP: p50p99(latencies),
    cpuPercent: windows.reduce((a, w) => a + w.cpuPercent, 0) / windows.length,
    simLoopP99Ms: windows.reduce((a, w) => Math.max(a, w.simLoopP99Ms), 0),
    ...(floods.length > 0 && {
      flood: {
        calls: floods.reduce((a, f) => a + f.calls, 0), seconds: floods.reduce((a, f) => a + f.seconds, 0),
        errors: floods.reduce((a, f) => a + f.errors, 0), byStatus,
      },
    }),
  };
}

const ratioFigure = (name: string, value: number, quiet: number, unit: string): BenchFigure => {
  const ratio = quiet > 0 ? value / quiet : Number.NaN;
  return {
    name, value: round(value, 2), unit, target: `≤ ${TARGET_RATIO}× quiet`, met: ratio <= TARGET_RATIO,
    baseline: { name: 'quiet', value: round(quiet, 2), ratio: round(ratio, 2) },
  };
};

/**
 * Issue 13: a fleet of simulated daimons heartbeating (every second) and an operator polling `GET /v1/hosts`, first
 * quiet, then while several clients flood `/v1/register` with a forged join token: once over kept-alive connections,
 * once with a new TLS handshake per call. Reports heartbeat RTT p99 and API p99 of each window against the quiet one.
 */
export const suite: BenchSuite = {
  name: 'auth-flood',
  async run({ quick, log }): Promise<BenchResult> {
    const hosts = quick ? 100 : 1000;
    const windowMs = quick ? 1000 : 3000;
    const rounds = quick ? 1 : 2;
    const heartbeatMs = 1000;
    const figures: BenchFigure[] = [];
    const notes: string[] = [];
    const bench = await startFleetBench(hosts, 'flood', ['--heartbeat-interval', `${heartbeatMs / 1000}s`], log);
    try {
      const c = await connectAll(bench, hosts);
      notes.push(`${bench.setupNote}, all online after ${round(c.onlineMs / 1000, 1)} s`);
      // Let the jittered first beats of every tunnel start before measuring.
      await sleep(heartbeatMs + 500);

      const pin = (await bench.cp.admin.createToken({ kind: 'join', name: 'bench-flood-pin' })).token.split('_')[3] as string;
      const forged = formatToken({ kind: 'join', id: '0123456789abcdef', secret: 'ab'.repeat(32), pin });
      const { csrPem } = await generateHostKeyAndCsr('flood-00');
      const api = hostsCall(bench.cp.port, bench.cp.config.ca, bench.cp.config.token);
      const flood = (fresh: boolean, firstAddress: number): Record<string, unknown> => ({
        port: bench.cp.port, ca: bench.cp.config.ca, token: forged, csr: csrPem, clients: FLOOD_CLIENTS, perClient: FLOOD_IN_FLIGHT,
        firstAddress, maxCalls: 200_000, fresh, ratePerS: FLOOD_RATE_PER_S,
      });

      // Quiet and flood windows alternate over several rounds, so load from outside the bench (this machine is shared)
      // falls on both alike; the samples of each kind are pooled. Each flood round uses fresh source addresses, as a
      // new flood would.
      const windows: Record<Kind, Window[]> = { quiet: [], 'kept-alive flood': [], 'fresh-connection flood': [] };
      let address = FLOOD_FIRST_ADDRESS;
      for (let round = 0; round < rounds; round++) {
        log(`round ${round + 1}/${rounds}: quiet, kept-alive flood, fresh-connection flood (${windowMs} ms each)`);
        windows.quiet.push(await measure(bench, windowMs, api));
        windows['kept-alive flood'].push(await measure(bench, windowMs, api, flood(false, address)));
        address += FLOOD_CLIENTS;
        windows['fresh-connection flood'].push(await measure(bench, windowMs, api, flood(true, address)));
        address += FLOOD_CLIENTS;
      }

      const quiet = pool(windows.quiet);
      figures.push(
        { name: 'quiet heartbeat RTT p99', value: round(quiet.rtt.p99, 2), unit: 'ms' },
        { name: 'quiet GET /v1/hosts p99', value: round(quiet.apiP.p99, 2), unit: 'ms' },
      );
      notes.push(
        `quiet: ${quiet.rttMs.length} heartbeat round trips (p50 ${round(quiet.rtt.p50, 2)} ms), ${quiet.api.latenciesMs.length} GET /v1/hosts ` +
          `(p50 ${round(quiet.apiP.p50, 2)} ms, ${hosts} hosts each), CP ${round(quiet.cpuPercent, 0)} % CPU, simulator loop delay p99 ≤ ${round(quiet.simLoopP99Ms, 1)} ms`,
      );
      for (const label of ['kept-alive flood', 'fresh-connection flood'] as const) {
        const w = pool(windows[label]);
        const f = w.flood as FloodCounts;
        const rate = f.calls / f.seconds;
        const limited = f.byStatus['429'] ?? 0;
        figures.push(
          ratioFigure(`${label}: heartbeat RTT p99`, w.rtt.p99, quiet.rtt.p99, 'ms'),
          ratioFigure(`${label}: GET /v1/hosts p99`, w.apiP.p99, quiet.apiP.p99, 'ms'),
          { name: `${label}: bad registrations /s`, value: round(rate, 0), unit: 'calls/s' },
        );
        notes.push(
          `${label}: ${f.calls} bad /v1/register calls in ${round(f.seconds, 1)} s from ${FLOOD_CLIENTS} addresses × ${FLOOD_IN_FLIGHT} in flight per round ` +
            `(${Object.entries(f.byStatus).map(([s, n]) => `${n}× ${s}`).join(', ')}${f.errors ? `, ${f.errors} closed at accept or failed` : ''}; ${round((100 * limited) / Math.max(1, f.calls), 1)} % answered 429); ` +
            `heartbeat p50 ${round(w.rtt.p50, 2)} ms over ${w.rttMs.length} round trips; API p50 ${round(w.apiP.p50, 2)} ms, ${w.api.failures} failed; ` +
            `CP ${round(w.cpuPercent, 0)} % CPU; simulator loop delay p99 ≤ ${round(w.simLoopP99Ms, 1)} ms`,
        );
        log(`${label}: ${round(rate, 0)} calls/s, heartbeat p99 ${round(w.rtt.p99, 2)} ms (quiet ${round(quiet.rtt.p99, 2)}), API p99 ${round(w.apiP.p99, 2)} ms (quiet ${round(quiet.apiP.p99, 2)})`);
      }
      notes.push(
        `CP defaults: failure budget 20 per address, refilled at 2/s (docs/api.md, Failed authentication); heartbeat every ${heartbeatMs} ms; ` +
          `${rounds} rounds of ${windowMs} ms windows; the flood is paced to ${FLOOD_RATE_PER_S} calls/s and runs in its own process at nice 19; ` +
          `machine load average (1 min) at the end ${round(loadavg()[0] ?? 0, 1)}`,
      );
    } finally {
      await bench.close();
    }
    return {
      suite: 'auth-flood',
      params: { hosts, windowMs, rounds, heartbeatMs, floodClients: FLOOD_CLIENTS, inFlight: FLOOD_IN_FLIGHT, floodRatePerS: FLOOD_RATE_PER_S, quick },
      figures, notes,
    };
  },
};
