import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { OKESU, spawnNode, type Child, type CpChild } from './cp-process.js';
import { waitUntil } from './stats.js';

/** A real `okesu daemon` child, registered with a join token, and its state dir. */
export interface DaimonChild extends Child {
  hostname: string;
  stateDir: string;
  /** Stops the daimon and removes its state dir. */
  close(): Promise<void>;
}

/** Starts `okesu daemon` against `cp` with a fresh one-use join token and waits until the CP lists it online. */
export async function startDaimonChild(cp: CpChild, hostname: string, extra: string[] = []): Promise<DaimonChild> {
  const stateDir = mkdtempSync(join(tmpdir(), 'okesu-bench-daimon-'));
  const token = await cp.admin.createToken({ kind: 'join', name: `bench-${hostname}` });
  // BENCH_DAIMON_CPU_PROF=DIR profiles the daimon (`--cpu-prof`), as BENCH_CPU_PROF does the CP.
  const prof = process.env['BENCH_DAIMON_CPU_PROF'] ? ['--cpu-prof', '--cpu-prof-dir', resolve(process.env['BENCH_DAIMON_CPU_PROF'])] : [];
  // The token goes in the environment, as the daimon's help recommends, not on the command line.
  const proc = spawnNode([...prof, OKESU, 'daemon', '--cp', cp.url, '--state', stateDir, '--hostname', hostname, '--log-level', 'warn', ...extra], { OKESU_JOIN_TOKEN: token.token });
  const close = async (): Promise<void> => {
    await proc.stop();
    rmSync(stateDir, { recursive: true, force: true });
  };
  try {
    await waitUntil(`daimon ${hostname} online`, async () => {
      if (proc.child.exitCode !== null) throw new Error(`daimon exited ${proc.child.exitCode}: ${proc.stderr()}`);
      return (await cp.admin.hosts()).some((h) => h.hostname === hostname && h.state === 'online');
    }, 30_000, 100);
  } catch (err) {
    await close();
    throw err;
  }
  return { ...proc, hostname, stateDir, close };
}
