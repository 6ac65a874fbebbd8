import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClientConfig } from '../../src/protocol/client-config.js';
import type { OperatorClient } from '../../src/transport/operator-client.js';
import { waitUntil } from '../lib/stats.js';
import { startCpChild, type CpChild } from '../lib/cp-process.js';
import type { HostIdentity } from '../lib/register-host.js';
import { timedSetup, timedTeardown } from '../lib/setup-clock.js';
import { topSelfTime } from './cpu-profile.js';
import { startFleet, type Fleet } from './fleet.js';
import { fleetTemplate, keepFleetTemplate, stateDirFrom, type FleetTemplate } from './fleet-template.js';

/** A CP child and a registered simulated fleet against it. */
export interface FleetBench {
  cp: CpChild;
  fleet: Fleet;
  registerMs: number;
  /** Registered with the fleet but not simulated by it (the first `size` hostnames are; these are the last `spare`). */
  spare: HostIdentity[];
  /** Says whether the hosts were registered here or loaded from the run's fleet template (for the suite's notes). */
  setupNote: string;
  /** Hosts the CP lists as online. */
  online(): Promise<number>;
  /** Stops the fleet and the CP (every child, even after a failure); returns the CP's top self-time functions when profiled. */
  close(): Promise<string[]>;
}

/** The CP a fleet joins: where it listens and its admin context. */
export interface FleetCp {
  stateDir: string;
  port: number;
  config: ClientConfig;
  admin: OperatorClient;
}

/**
 * Gives `fleet` its registered identities: loaded from `template` when the CP runs on a copy of its state, else
 * registered through `/v1/register` with one join token of `fleet.size` uses (and kept as the run's template).
 * Returns the registration's wall ms and a note saying which.
 */
export async function joinFleet(fleet: Fleet, cp: FleetCp, template: FleetTemplate | undefined, log: (msg: string) => void): Promise<{ registerMs: number; note: string }> {
  const target = { host: '127.0.0.1', port: cp.port, ca: cp.config.ca };
  return timedSetup(async () => {
    if (template) {
      const t0 = performance.now();
      await fleet.load(target, template.identities);
      const note = `set-up: the ${fleet.size} hosts registered once this run (by the "${template.prefix}" fleet, ${Math.round(template.registerMs / 100) / 10} s) — the CP started on a copy of that CP's state right after registration, the simulators given their identities (${Math.round(performance.now() - t0)} ms)`;
      log(note);
      return { registerMs: template.registerMs, note };
    }
    const prefix = fleet.hostnames[0]?.replace(/-\d+$/, '') ?? 'fleet';
    const token = await cp.admin.createToken({ kind: 'join', uses: fleet.size, name: `bench-${prefix}`, ttl_ms: 3_600_000 });
    log(`registering ${fleet.size} hosts through /v1/register from ${fleet.children} simulator processes`);
    const registerMs = await fleet.register(target, token.token);
    const t0 = performance.now();
    const kept = await keepFleetTemplate(cp.stateDir, fleet, registerMs, prefix);
    log(`registered in ${Math.round(registerMs)} ms${kept ? `; kept as the run's ${fleet.size}-host template in ${Math.round(performance.now() - t0)} ms` : ''}`);
    return { registerMs, note: `set-up: ${fleet.size} hosts registered through /v1/register in ${Math.round(registerMs / 100) / 10} s` };
  });
}

/**
 * Starts `okesu cp serve` (with `--cpu-prof` when `OKESU_BENCH_CPU_PROF=1`), a fleet of `size` + `spare` simulators in
 * child processes, and registers every host (or loads the run's template of that many, see `fleet-template.ts`). The
 * fleet simulates the first `size` hostnames; the `spare` others are the suite's to use as it likes.
 */
export async function startFleetBench(size: number, prefix: string, cpArgs: string[], log: (msg: string) => void, spare = 0): Promise<FleetBench> {
  const profDir = process.env['OKESU_BENCH_CPU_PROF'] === '1' ? mkdtempSync(join(tmpdir(), 'okesu-bench-prof-')) : undefined;
  const template = fleetTemplate(size + spare);
  const [cp, forked] = await timedSetup(() => Promise.allSettled([
    startCpChild(cpArgs, profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [], {}, template ? stateDirFrom(template) : undefined),
    // Forked while the CP starts: both are mostly waiting on module loading.
    startFleet(size + spare, template?.prefix ?? prefix),
  ]));
  const fleet = forked.status === 'fulfilled' ? forked.value : undefined;
  const close = async (): Promise<string[]> => {
    await timedTeardown(async () => {
      await fleet?.close();
      if (cp.status === 'fulfilled') await cp.value.close();
    });
    if (!profDir) return [];
    try {
      return topSelfTime(profDir);
    } finally {
      rmSync(profDir, { recursive: true, force: true });
    }
  };
  try {
    if (cp.status === 'rejected') throw cp.reason;
    if (forked.status === 'rejected') throw forked.reason;
    const f = forked.value;
    const c = cp.value;
    const { registerMs, note } = await joinFleet(f, c, template, log);
    const ids = spare > 0 ? (await f.identities()).slice(size) : [];
    const online = async (): Promise<number> => (await c.admin.hosts()).filter((h) => h.state === 'online').length;
    return { cp: c, fleet: f, registerMs, spare: ids, setupNote: note, online, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Connects `total` tunnels and waits until the CP lists them all online; returns the wall time to both. */
export async function connectAll(bench: FleetBench, total: number): Promise<{ connectMs: number; onlineMs: number; failures: number }> {
  return timedSetup(async () => {
    const t0 = performance.now();
    const r = await bench.fleet.connect(total);
    if (r.failures > 0) throw new Error(`${r.failures} tunnels failed to connect; first: ${r.firstError}`);
    await waitUntil(`${total} hosts online`, async () => (await bench.online()) >= total, 120_000, 250);
    return { connectMs: r.ms, onlineMs: performance.now() - t0, failures: r.failures };
  });
}
