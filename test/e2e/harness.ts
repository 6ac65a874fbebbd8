import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

/** The bundled binary under test (`npm test` builds it first). */
export const OKESU = resolve(import.meta.dirname, '../../dist/okesu.js');
/** Agent files used by the end-to-end tests. */
export const TEST_AGENTS = resolve(import.meta.dirname, 'agents');

/** A fresh temporary directory. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `okesu-e2e-${prefix}-`));
}

/** Polls `fn` until it returns a truthy value; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 30_000, intervalMs = 50): Promise<Exclude<T, false | undefined | null | 0 | ''>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value as Exclude<T, false | undefined | null | 0 | ''>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A running okesu child process with its output captured line by line. */
export interface OkesuProcess {
  child: ChildProcess;
  stdoutLines: string[];
  stderr(): string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
}

/** Starts `okesu ARGS` as a child process (`binary` defaults to the bundle in dist/). */
export function spawnOkesu(args: string[], env: NodeJS.ProcessEnv = {}, binary: string = OKESU): OkesuProcess {
  // No model keys or endpoints from the machine running the tests: agents here see "no key" (api_unavailable) always.
  const { ANTHROPIC_API_KEY: _a, ANTHROPIC_BASE_URL: _b, OPENAI_API_KEY: _o, OPENAI_BASE_URL: _u, ...inherited } = process.env;
  return captureOkesu(spawn(process.execPath, [binary, ...args], { env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** An okesu child process with its stdout lines and stderr captured (also for the single executable, run directly). */
export function captureOkesu(child: ChildProcess): OkesuProcess {
  const stdoutLines: string[] = [];
  let partial = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    stdoutLines.push(...parts);
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  return {
    child, stdoutLines, exited,
    stderr: () => stderr,
    kill: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** Runs `okesu ARGS` to completion. */
export async function runOkesu(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawnOkesu(args, env);
  const code = await p.exited;
  await new Promise((r) => setImmediate(r));
  return { code, stdout: p.stdoutLines.join('\n'), stderr: p.stderr() };
}

/** Runs `okesu ARGS --json` and parses stdout; throws with stderr on failure. */
export async function okesuJson<T>(args: string[], env: NodeJS.ProcessEnv): Promise<T> {
  const r = await runOkesu([...args, '--json'], env);
  if (r.code !== 0) throw new Error(`okesu ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** A control plane child process and how to reach it. */
export interface CpProcess {
  proc: OkesuProcess;
  stateDir: string;
  port: number;
  url: string;
  /** Environment for operator commands (OKESU_CONFIG). */
  env: NodeJS.ProcessEnv;
}

/** Starts `okesu cp serve` on loopback and waits until admin.yaml names its port. `port` 0 picks one; `env` is added to the CP's. */
export async function startCp(stateDir: string, port = 0, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<CpProcess> {
  const proc = spawnOkesu(['cp', 'serve', '--state', stateDir, '--listen', `127.0.0.1:${port}`, '--log-level', 'warn', ...extra], env);
  await waitFor('the CP to listen', () => {
    if (proc.child.exitCode !== null) throw new Error(`cp exited: ${proc.stderr()}`);
    return /control plane on https:\/\//.test(proc.stderr());
  });
  const admin = readFileSync(join(stateDir, 'admin.yaml'), 'utf8');
  const url = (parseYaml(admin) as { cp: string }).cp;
  return { proc, stateDir, port: Number(new URL(url).port), url, env: { OKESU_CONFIG: join(stateDir, 'admin.yaml') } };
}

/** Stops a process and waits for it to exit. */
export async function stop(p: OkesuProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!p) return;
  p.kill(signal);
  await p.exited;
}
