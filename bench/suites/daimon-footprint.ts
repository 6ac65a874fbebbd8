import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchResult, BenchSuite } from '../lib/types.js';
import { OKESU, spawnNode, startCpChild } from '../lib/cp-process.js';
import { rssBreakdown, sampleProcess } from '../lib/proc-sampler.js';
import { round, sleep, waitUntil } from '../lib/stats.js';

const HOSTNAME = 'bench-footprint';
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
      const daimon = spawnNode([OKESU, 'daemon', '--cp', cp.url, '--state', state, '--log-level', 'warn']);
      try {
        log('waiting for the registered daimon to come online');
        await waitUntil('the daimon to be online', online(daimon), 30_000, 200);
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
        return {
          suite: 'daimon-footprint',
          params: { seconds, settleMs, heartbeatIntervalMs: 5000 },
          figures: [
            {
              name: 'daimon idle RSS (mean)', value: round(ds.rssMeanMiB, 1), unit: 'MiB', target: `≤ ${RSS_RATIO_TARGET}× bare`, met: ratio <= RSS_RATIO_TARGET,
              baseline: { name: 'bare node setInterval', value: round(bs.rssMeanMiB, 1), ratio: round(ratio, 2) },
            },
            { name: 'daimon idle RSS (max)', value: round(ds.rssMaxMiB, 1), unit: 'MiB' },
            {
              name: 'daimon idle CPU', value: round(ds.cpuPercent, 3), unit: '% of a core', target: `< ${CPU_TARGET} %`, met: ds.cpuPercent < CPU_TARGET,
              baseline: { name: 'bare node setInterval', value: round(bs.cpuPercent, 3), ratio: bs.cpuPercent > 0 ? round(ds.cpuPercent / bs.cpuPercent, 2) : Number.NaN },
            },
          ],
          notes: [
            `CPU from /proc/<pid>/stat utime+stime over ${round(ds.seconds, 1)} s (one 10 ms clock tick ≈ ${round(1 / ds.seconds, 3)} %); RSS from VmRSS every 500 ms`,
            `RSS split at the end (RssAnon/RssFile/RssShmem): daimon ${daimonSplit}; bare ${bareSplit}`,
            `daimon: hostname ${HOSTNAME}, registered by a first start, then restarted with --cp and --state alone and measured; default heartbeat 5 s, no runs; both processes sampled in the same window after a ${settleMs / 1000} s settle`,
          ],
        };
      } finally {
        await daimon.stop();
      }
    } finally {
      await bare.stop();
      await cp.close();
      rmSync(state, { recursive: true, force: true });
    }
  },
};
