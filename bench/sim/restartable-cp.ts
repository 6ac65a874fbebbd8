import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { clientConfigSchema, type ClientConfig } from '../../src/protocol/client-config.js';
import { createOperatorClient, type OperatorClient } from '../../src/transport/operator-client.js';
import { OKESU, spawnNode, type Child } from '../lib/cp-process.js';
import { waitUntil } from '../lib/stats.js';

/** A port on 127.0.0.1 that was free a moment ago (the kernel picked it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** A `okesu cp serve` child that can be killed and started again on the same state dir and port. */
export interface RestartableCp {
  stateDir: string;
  port: number;
  config: ClientConfig;
  admin: OperatorClient;
  /** The CP process running now. */
  proc(): Child;
  /** Ends the running CP with `signal` and waits until it exited. */
  kill(signal: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts the CP again (same state dir, port and flags); resolves once it listens, with its process. */
  start(): Promise<Child>;
  /** Stops the CP and removes its state dir. */
  close(): Promise<void>;
}

async function spawnCp(stateDir: string, port: number, cpArgs: string[]): Promise<Child> {
  // BENCH_CPU_PROF=DIR profiles every CP started here (`--cpu-prof`); a SIGKILLed one writes no profile.
  const prof = process.env['BENCH_CPU_PROF'] ? ['--cpu-prof', '--cpu-prof-dir', resolve(process.env['BENCH_CPU_PROF'])] : [];
  const proc = spawnNode([...prof, OKESU, 'cp', 'serve', '--state', stateDir, '--listen', `127.0.0.1:${port}`, '--log-level', 'warn', ...cpArgs]);
  try {
    // Returning (not throwing) on exit ends the wait at once; waitUntil retries a throwing check until its timeout.
    await waitUntil('the CP to listen', () => proc.child.exitCode !== null || /control plane on https:\/\//.test(proc.stderr()), 60_000, 20);
    if (proc.child.exitCode !== null) throw new Error(`cp exited ${proc.child.exitCode}: ${proc.stderr()}`);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return proc;
}

/** Starts `okesu cp serve` in a fresh state dir on a fixed free port, so it can restart where daimons expect it. */
export async function startRestartableCp(cpArgs: string[]): Promise<RestartableCp> {
  const stateDir = mkdtempSync(join(tmpdir(), 'okesu-bench-cp-'));
  const port = await freePort();
  let current: Child;
  try {
    current = await spawnCp(stateDir, port, cpArgs);
  } catch (err) {
    rmSync(stateDir, { recursive: true, force: true });
    throw err;
  }
  const config = clientConfigSchema.parse(parseYaml(readFileSync(join(stateDir, 'admin.yaml'), 'utf8')));
  return {
    stateDir, port, config,
    admin: createOperatorClient(config),
    proc: () => current,
    async kill(signal) {
      if (current.child.exitCode !== null || current.child.signalCode !== null) return;
      if (signal === 'SIGTERM') return current.stop(30_000);
      current.child.kill('SIGKILL');
      await current.exited;
    },
    async start() {
      current = await spawnCp(stateDir, port, cpArgs);
      return current;
    },
    async close() {
      await current.stop(15_000);
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
