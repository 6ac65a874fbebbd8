import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from '../lib/stats.js';
import { startCpChild, type CpChild } from '../lib/cp-process.js';
import { topSelfTime } from './cpu-profile.js';
import { startFleet, type Fleet } from './fleet.js';

/** A CP child and a registered simulated fleet against it. */
export interface FleetBench {
  cp: CpChild;
  fleet: Fleet;
  registerMs: number;
  /** Hosts the CP lists as online. */
  online(): Promise<number>;
  /** Stops the fleet and the CP (every child, even after a failure); returns the CP's top self-time functions when profiled. */
  close(): Promise<string[]>;
}

/**
 * Starts `okesu cp serve` (with `--cpu-prof` when `OKESU_BENCH_CPU_PROF=1`), a fleet of `size` simulators in child
 * processes, and registers every host through `/v1/register` with one join token of `size` uses.
 */
export async function startFleetBench(size: number, prefix: string, cpArgs: string[], log: (msg: string) => void): Promise<FleetBench> {
  const profDir = process.env['OKESU_BENCH_CPU_PROF'] === '1' ? mkdtempSync(join(tmpdir(), 'okesu-bench-prof-')) : undefined;
  const cp = await startCpChild(cpArgs, profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []);
  let fleet: Fleet | undefined;
  const close = async (): Promise<string[]> => {
    await fleet?.close();
    await cp.close();
    if (!profDir) return [];
    try {
      return topSelfTime(profDir);
    } finally {
      rmSync(profDir, { recursive: true, force: true });
    }
  };
  try {
    fleet = await startFleet(size, prefix);
    const token = await cp.admin.createToken({ kind: 'join', uses: size, name: `bench-${prefix}`, ttl_ms: 3_600_000 });
    log(`registering ${size} hosts through /v1/register from ${fleet.children} simulator processes`);
    const registerMs = await fleet.register({ host: '127.0.0.1', port: cp.port, ca: cp.config.ca }, token.token);
    const online = async (): Promise<number> => (await cp.admin.hosts()).filter((h) => h.state === 'online').length;
    return { cp, fleet, registerMs, online, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Connects `total` tunnels and waits until the CP lists them all online; returns the wall time to both. */
export async function connectAll(bench: FleetBench, total: number): Promise<{ connectMs: number; onlineMs: number; failures: number }> {
  const t0 = performance.now();
  const r = await bench.fleet.connect(total);
  if (r.failures > 0) throw new Error(`${r.failures} tunnels failed to connect; first: ${r.firstError}`);
  await waitUntil(`${total} hosts online`, async () => (await bench.online()) >= total, 120_000, 250);
  return { connectMs: r.ms, onlineMs: performance.now() - t0, failures: r.failures };
}
