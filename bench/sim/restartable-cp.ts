import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClientConfig } from '../../src/protocol/client-config.js';
import { createOperatorClient, type OperatorClient } from '../../src/transport/operator-client.js';
import { readAdminConfig, spawnCp, type Child, type CpChild } from '../lib/cp-process.js';

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

/**
 * Starts `okesu cp serve` in a fresh state dir (or `stateDir`, prepared, which it then owns) on a fixed free port, so
 * it can restart where daimons expect it.
 */
export async function startRestartableCp(cpArgs: string[], stateDir = mkdtempSync(join(tmpdir(), 'okesu-bench-cp-'))): Promise<RestartableCp> {
  const port = await freePort();
  let current: Child;
  try {
    current = await spawnCp(stateDir, `127.0.0.1:${port}`, cpArgs);
  } catch (err) {
    rmSync(stateDir, { recursive: true, force: true });
    throw err;
  }
  const config = readAdminConfig(stateDir);
  return restartable(stateDir, port, cpArgs, config, createOperatorClient(config), current);
}

/**
 * Makes `cp`, running (started with `cpArgs`), restartable on the port it listens on, with the same flags: the shared
 * fleet's CP (`shared-fleet.ts`) that the reconnect storm kills and starts again.
 */
export function restartableFrom(cp: CpChild, cpArgs: string[]): RestartableCp {
  return restartable(cp.stateDir, cp.port, cpArgs, cp.config, cp.admin, cp);
}

function restartable(stateDir: string, port: number, cpArgs: string[], config: ClientConfig, admin: OperatorClient, first: Child): RestartableCp {
  let current = first;
  return {
    stateDir, port, config, admin,
    proc: () => current,
    async kill(signal) {
      if (current.child.exitCode !== null || current.child.signalCode !== null) return;
      if (signal === 'SIGTERM') return current.stop(30_000);
      current.child.kill('SIGKILL');
      await current.exited;
    },
    async start() {
      current = await spawnCp(stateDir, `127.0.0.1:${port}`, cpArgs);
      return current;
    },
    async close() {
      await current.stop(15_000);
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
