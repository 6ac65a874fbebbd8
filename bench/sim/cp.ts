import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { clientConfigSchema, type ClientConfig } from '../../src/protocol/client-config.js';
import { createOperatorClient, type OperatorClient } from '../../src/transport/operator-client.js';
import { OKESU, spawnNode, type Child } from '../lib/cp-process.js';
import { waitUntil } from '../lib/stats.js';

/** A `okesu cp serve` child for the fleet suites, optionally under `--cpu-prof`. */
export interface FleetCp extends Child {
  stateDir: string;
  port: number;
  config: ClientConfig;
  admin: OperatorClient;
  /** Stops the CP and removes its state dir. */
  close(): Promise<void>;
}

/** Starts the bundled CLI's CP on 127.0.0.1:0 with `nodeArgs` before the script (e.g. `--cpu-prof`), and waits until it listens. */
export async function startFleetCp(cpArgs: string[], nodeArgs: string[] = []): Promise<FleetCp> {
  const stateDir = mkdtempSync(join(tmpdir(), 'okesu-bench-cp-'));
  const proc = spawnNode([...nodeArgs, OKESU, 'cp', 'serve', '--state', stateDir, '--listen', '127.0.0.1:0', '--log-level', 'warn', ...cpArgs]);
  try {
    await waitUntil('the CP to listen', () => {
      if (proc.child.exitCode !== null) throw new Error(`cp exited ${proc.child.exitCode}: ${proc.stderr()}`);
      return /control plane on https:\/\//.test(proc.stderr());
    }, 30_000);
  } catch (err) {
    await proc.stop();
    rmSync(stateDir, { recursive: true, force: true });
    throw err;
  }
  const config = clientConfigSchema.parse(parseYaml(readFileSync(join(stateDir, 'admin.yaml'), 'utf8')));
  return {
    ...proc, stateDir, port: Number(new URL(config.cp).port), config,
    admin: createOperatorClient(config),
    async close() {
      await proc.stop(15_000);
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
