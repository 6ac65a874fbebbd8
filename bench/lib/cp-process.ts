import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { clientConfigSchema, type ClientConfig } from '../../src/protocol/client-config.js';
import { createOperatorClient, type OperatorClient } from '../../src/transport/operator-client.js';
import { registerHost, type HostIdentity } from './register-host.js';
import { waitUntil } from './stats.js';

/** The bundled CLI every child process runs (`OKESU_BENCH_BIN=path` runs another build, e.g. to compare two). */
export const OKESU = resolve(process.env['OKESU_BENCH_BIN'] ?? resolve(import.meta.dirname, '../../dist/okesu.js'));

/** A child process with its stderr kept (bounded) for error messages. */
export interface Child {
  child: ChildProcess;
  pid: number;
  stderr(): string;
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts `node ARGS` as a child process; stdout is discarded, stderr kept (last 64 KiB). */
export function spawnNode(args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not start node ${args.join(' ')}`);
  return asChild(child);
}

/** Wraps a spawned process (with piped stderr) as a Child: its last 64 KiB of stderr kept, stop = SIGTERM then SIGKILL. */
export function asChild(child: ChildProcess): Child {
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-64 * 1024);
  });
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  return {
    child, pid: child.pid as number, exited, stderr: () => stderr,
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A `okesu cp serve` child on loopback, its admin context and helpers that act through the public API only. */
export interface CpChild extends Child {
  stateDir: string;
  port: number;
  url: string;
  config: ClientConfig;
  admin: OperatorClient;
  /** Registers `hostname` with `joinToken` exactly as a daimon does: fresh key + CSR, POST /v1/register. */
  register(hostname: string, joinToken: string): Promise<HostIdentity>;
  /** Stops the CP and removes its state dir. */
  close(): Promise<void>;
}

/**
 * Starts `okesu cp serve` on `stateDir` and `listen`, with `nodeArgs` before the script, and resolves once it listens
 * (stopping it on failure). BENCH_CPU_PROF=DIR adds `--cpu-prof` to every CP started here; a SIGKILLed one writes none.
 */
export async function spawnCp(stateDir: string, listen: string, cpArgs: string[] = [], nodeArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Child> {
  const prof = process.env['BENCH_CPU_PROF'] ? ['--cpu-prof', '--cpu-prof-dir', resolve(process.env['BENCH_CPU_PROF'])] : [];
  const proc = spawnNode([...prof, ...nodeArgs, OKESU, 'cp', 'serve', '--state', stateDir, '--listen', listen, '--log-level', 'warn', ...cpArgs], env);
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

/** The admin client config a CP wrote into its state dir on first start. */
export function readAdminConfig(stateDir: string): ClientConfig {
  return clientConfigSchema.parse(parseYaml(readFileSync(join(stateDir, 'admin.yaml'), 'utf8')));
}

/**
 * Starts `okesu cp serve --listen 127.0.0.1:0` in a fresh state dir (`nodeArgs` before the script, `env` added to its
 * environment) and waits until it listens. `stateDir` starts it on a prepared one instead (e.g. a copy of the run's
 * fleet template), which it then owns and removes on close.
 */
export async function startCpChild(extra: string[] = [], nodeArgs: string[] = [], env: NodeJS.ProcessEnv = {}, stateDir = mkdtempSync(join(tmpdir(), 'okesu-bench-cp-'))): Promise<CpChild> {
  let proc: Child;
  try {
    proc = await spawnCp(stateDir, '127.0.0.1:0', extra, nodeArgs, env);
  } catch (err) {
    rmSync(stateDir, { recursive: true, force: true });
    throw err;
  }
  const config = readAdminConfig(stateDir);
  const port = Number(new URL(config.cp).port);
  return {
    ...proc, stateDir, port, url: config.cp, config,
    admin: createOperatorClient(config),
    register: (hostname, joinToken) => registerHost({ host: '127.0.0.1', port, ca: config.ca }, hostname, joinToken),
    async close() {
      await proc.stop(15_000);
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
