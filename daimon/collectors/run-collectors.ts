import { formatDuration } from '../../src/protocol/duration.js';
import type { CollectorSpec } from '../../src/specs/agent-spec.js';
import type { HostPolicy } from '../../src/specs/policy-spec.js';
import type { CollectorOutput } from '../provider.js';
import type { ChildEnv } from '../run/child-env.js';
import type { ContainedProcess, RunScope } from '../run/containment.js';
import { scopeOf } from '../run/detect-containment.js';

/** Exit code by which a collector says "nothing to collect on this host" (e.g. its tool is missing). */
export const SKIP_EXIT_CODE = 77;
/** Exit code of `sh` when the command is not found: also a skip. */
const NOT_FOUND_EXIT_CODE = 127;
/** Default stdout cap per collector. */
export const DEFAULT_COLLECTOR_OUTPUT_BYTES = 1024 * 1024;
const STDERR_TAIL_BYTES = 4096;

/** A collector's output (kept as a name for readers of this module). */
export type CollectorResult = CollectorOutput;

/** Options of `runCollectors`. */
export interface RunCollectorsOptions {
  /** Environment of every command, already allowlisted (inputs are in it as OKESU_INPUT_*). */
  env: ChildEnv;
  /** The run's process scope: every collector's processes end with the collector, and at the latest with the run. */
  processes?: RunScope;
  /** The host policy in force (its command gate is applied through `checkCommand`). */
  policy: HostPolicy;
  /** Aborting kills every collector's process group; the call then resolves promptly. */
  signal: AbortSignal;
  cwd?: string;
  /** Stdout kept per collector (default 1 MiB); the rest is read and discarded. */
  maxOutputBytes?: number;
  /** Time between SIGTERM and SIGKILL of a group (default 3 s). */
  killGraceMs?: number;
  /** The host-policy gate: a reason to refuse a command, or undefined to allow it. */
  checkCommand?: (command: string) => { reason: string } | undefined;
  /** Told each collector's result as it ends (metrics). */
  onResult?: (spec: CollectorSpec, result: CollectorResult) => void;
}

/**
 * Runs an agent's collectors (SPEC §4) in parallel, each `sh -c <command>` in a process scope of its own with stdin
 * closed, and resolves with one result per collector in the order given. Exit 77 (or 127, command not found) means
 * skipped; a timeout or abort stops everything the collector started, detached grandchildren included, and so does
 * its exit. Never rejects.
 */
export async function runCollectors(collectors: CollectorSpec[], options: RunCollectorsOptions): Promise<CollectorResult[]> {
  if (collectors.length === 0) return [];
  const { scope, release } = scopeOf(options.processes, 'collectors');
  try {
    return await Promise.all(collectors.map(async (spec) => {
      const result = await runOne(spec, options, scope);
      options.onResult?.(spec, result);
      return result;
    }));
  } finally {
    await release();
  }
}

function lastLine(text: string): string {
  return text.trimEnd().split('\n').at(-1)?.trim() ?? '';
}

async function runOne(spec: CollectorSpec, options: RunCollectorsOptions, scope: RunScope): Promise<CollectorResult> {
  const result = (fields: Partial<CollectorResult>): CollectorResult => ({
    name: spec.name, output: '', exitCode: null, durationMs: 0, truncated: false, skipped: false, ...fields,
  });
  const denied = options.checkCommand?.(spec.command);
  if (denied) return result({ error: `denied by host policy: ${denied.reason}` });
  if (options.signal.aborted) return result({ error: 'aborted before start' });

  const started = performance.now();
  const cap = options.maxOutputBytes ?? DEFAULT_COLLECTOR_OUTPUT_BYTES;
  const graceMs = options.killGraceMs ?? 3000;
  let proc: ContainedProcess;
  try {
    proc = scope.spawn('sh', ['-c', spec.command], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], killGraceMs: graceMs });
  } catch (err) {
    return result({ error: `cannot start: ${(err as Error).message}` });
  }
  const child = proc.child;

  const chunks: Buffer[] = [];
  let kept = 0;
  let truncated = false;
  child.stdout?.on('data', (chunk: Buffer) => {
    const room = cap - kept;
    if (room <= 0) {
      truncated = true; // keep reading and discarding, so the child never blocks on a full pipe
      return;
    }
    if (chunk.length > room) truncated = true;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    chunks.push(part);
    kept += part.length;
  });
  let stderr = Buffer.alloc(0);
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = Buffer.concat([stderr, chunk]);
    if (stderr.length > 2 * STDERR_TAIL_BYTES) stderr = stderr.subarray(stderr.length - STDERR_TAIL_BYTES);
  });

  let stopped: 'timeout' | 'abort' | undefined;
  let spawnError: Error | undefined;
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
    child.once('error', (err) => {
      spawnError = err;
      if (child.pid === undefined) resolve({ code: null, signal: null });
    });
  });
  const pid = child.pid;
  const group = pid === undefined ? undefined : proc;
  const stop = (why: 'timeout' | 'abort'): void => {
    stopped ??= why;
    group?.terminate();
  };
  const onAbort = (): void => stop('abort');
  let hatch: NodeJS.Timeout | undefined;
  const timer = group ? setTimeout(() => stop('timeout'), spec.timeoutMs) : undefined;
  if (group) {
    options.signal.addEventListener('abort', onAbort, { once: true });
    child.once('exit', () => {
      // What the command left running (background jobs, setsid or not) belongs to the collector: stop it, so the pipes close.
      group.terminate();
      // Should anything still hold the pipes after its SIGKILL, stop waiting for it.
      hatch = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, graceMs + 500);
    });
  }
  const { code, signal } = await closed;
  clearTimeout(timer);
  clearTimeout(hatch);
  options.signal.removeEventListener('abort', onAbort);

  let output = Buffer.concat(chunks).toString('utf8');
  if (truncated) {
    // Rules read lines: a line cut in half by the cap would be a different line, so drop it.
    const end = output.lastIndexOf('\n');
    if (end >= 0) output = output.slice(0, end + 1);
  }
  const tail = lastLine(stderr.subarray(Math.max(0, stderr.length - STDERR_TAIL_BYTES)).toString('utf8'));
  const base = { output, exitCode: code, durationMs: Math.round(performance.now() - started), truncated };
  if (spawnError && pid === undefined) return result({ ...base, error: `cannot start: ${spawnError.message}` });
  if (stopped === 'timeout') return result({ ...base, error: `timed out after ${formatDuration(spec.timeoutMs)}` });
  if (stopped === 'abort') return result({ ...base, error: 'aborted' });
  if (code === SKIP_EXIT_CODE) return result({ ...base, skipped: true, skipReason: tail || `exit code ${SKIP_EXIT_CODE}: nothing to collect on this host` });
  if (code === NOT_FOUND_EXIT_CODE) return result({ ...base, skipped: true, skipReason: `command not found${tail ? `: ${tail}` : ''}` });
  if (code === 0) return result(base);
  if (code !== null) return result({ ...base, error: `exit code ${code}${tail ? `: ${tail}` : ''}` });
  return result({ ...base, error: `killed by ${signal ?? 'a signal'}` });
}
