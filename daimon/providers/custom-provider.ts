import type { Readable } from 'node:stream';
import type { EventBody } from '../../src/protocol/event.js';
import { LIMITS } from '../../src/protocol/limits.js';
import type { EmitEvent, Provider, ProviderOutcome, RunContext } from '../provider.js';
import { LineSplitter } from '../run/line-splitter.js';
import type { CappedLine } from '../run/line-splitter.js';
import { stderrLineToEvent, stdoutLineToEvent } from '../run/output-events.js';
import { buildChildEnv, runEnv } from '../run/child-env.js';
import type { ContainedProcess, RunScope } from '../run/containment.js';
import { scopeOf } from '../run/detect-containment.js';

/** Options of the custom provider. */
export interface CustomProviderOptions {
  /** Time between SIGTERM and SIGKILL of its processes on cancel, timeout or exit (default 3 s). */
  killGraceMs?: number;
  /** Working directory of the executable (default: the daimon's). */
  cwd?: string;
  /**
   * The environment the executable's allowlisted one is built from when the run brings none (default: the daimon's);
   * `OKESU_RUN_ID`, `OKESU_HOST` and `OKESU_AGENT` are added.
   */
  env?: NodeJS.ProcessEnv;
}

/** The JSON object a custom executable reads on stdin. */
export interface CustomRunInput {
  run_id: string;
  host: string;
  agent: { name: string; version: string };
  /** The agent's body rendered over host, inputs and collector outputs (the system prompt), when the pipeline rendered it. */
  system?: string;
  prompt: string;
  inputs: Record<string, unknown>;
  /** This run's collector outputs. */
  collectors: { name: string; output: string; exit_code: number | null; truncated: boolean; skipped: boolean; skip_reason?: string; error?: string }[];
}

/**
 * The `custom` provider (SPEC §4.1): runs `agent.command` in the run's process scope (an argv list
 * directly, a string under `sh -c`) with the run's allowlisted environment, writes the run as one JSON
 * object on stdin, and relays each stdout line as an event and each stderr line as text. Reading pauses
 * while `emit` is pending, so a full spool blocks the executable instead of dropping its events. When the
 * executable exits, whatever it started is stopped too, detached or not: a run owns its processes.
 */
export function createCustomProvider(options: CustomProviderOptions = {}): Provider {
  const killGraceMs = options.killGraceMs ?? 3000;
  return {
    async run(ctx: RunContext, emit: EmitEvent): Promise<ProviderOutcome> {
      const command = ctx.agent.command;
      const argv = typeof command === 'string' ? ['sh', '-c', command] : command;
      if (argv?.[0] === undefined || argv[0] === '') return { status: 'failed', error: 'the agent has no command to run' };
      if (ctx.signal.aborted) return { status: 'failed', error: 'aborted before start' };

      const { scope, release } = scopeOf(ctx.processes, ctx.runId);
      try {
        return await runExecutable(scope, ctx, emit, argv, { ...options, killGraceMs });
      } finally {
        await release();
      }
    },
  };
}

/** Runs the executable `argv` in the run's scope and relays its output; resolves when it and its pipes are done. */
async function runExecutable(scope: RunScope, ctx: RunContext, emit: EmitEvent, argv: readonly string[], options: CustomProviderOptions & { killGraceMs: number }): Promise<ProviderOutcome> {
  const [file = '', ...args] = argv;
  const killGraceMs = options.killGraceMs;
  const env = { ...(ctx.env ?? buildChildEnv(options.env ?? process.env)), ...runEnv({ runId: ctx.runId, hostname: ctx.hostname, agent: ctx.agent.name }) };
  let proc: ContainedProcess;
  try {
    proc = scope.spawn(file, args, { cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe'], killGraceMs });
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file (ENOENT)' : (err as Error).message;
    return { status: 'failed', error: `cannot start "${file}": ${reason}` };
  }
  const child = proc.child;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const started = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', resolve);
  });
  if (started || child.pid === undefined) {
    const reason = (started as NodeJS.ErrnoException | undefined)?.code === 'ENOENT' ? 'no such file (ENOENT)' : started?.message;
    ctx.log.warn({ err: started, command: argv }, 'custom provider could not start');
    return { status: 'failed', error: `cannot start "${file}": ${reason ?? 'unknown error'}` };
  }
  const pid = child.pid;
  child.on('error', (err) => ctx.log.warn({ err, pid }, 'custom provider process error'));
  ctx.log.info({ pid, command: argv }, 'custom provider started');

  const onAbort = (): void => {
    if (proc.terminate()) ctx.log.info({ pid }, 'run aborted: its processes were sent SIGTERM');
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });

  const input: CustomRunInput = {
    run_id: ctx.runId,
    host: ctx.hostname,
    agent: { name: ctx.agent.name, version: ctx.agent.version },
    ...(ctx.system !== undefined && { system: ctx.system }),
    prompt: ctx.prompt,
    inputs: ctx.inputs,
    collectors: (ctx.collectors ?? []).map((c) => ({
      name: c.name, output: c.output, exit_code: c.exitCode, truncated: c.truncated, skipped: c.skipped,
      ...(c.skipReason !== undefined && { skip_reason: c.skipReason }), ...(c.error !== undefined && { error: c.error }),
    })),
  };
  child.stdin?.on('error', () => {}); // EPIPE: the executable need not read its input
  child.stdin?.end(`${JSON.stringify(input)}\n`);

  // One queue for both streams: each event is handed to `emit` only after the previous one settled.
  let queue: Promise<void> = Promise.resolve();
  let emitError: Error | undefined;
  const emitInOrder = (body: EventBody): Promise<void> => {
    const next = queue.then(() => (emitError ? undefined : emit(body)));
    queue = next.catch((err: unknown) => {
      emitError ??= err instanceof Error ? err : new Error(String(err));
      child.stdout?.destroy();
      child.stderr?.destroy();
      proc.terminate();
    });
    return queue;
  };
  let stdoutLine = 0;
  const pumps = Promise.all([
    pump(child.stdout, (line) => stdoutLineToEvent(line, ++stdoutLine), emitInOrder),
    pump(child.stderr, stderrLineToEvent, emitInOrder),
  ]);

  const { code, signal } = await exited;
  // Whatever the executable left behind (background jobs) holds our pipes open and belongs to the run.
  if (proc.terminate()) ctx.log.warn({ pid }, 'custom provider exited and left processes behind: sent SIGTERM');
  await pumps;
  await queue;
  ctx.signal.removeEventListener('abort', onAbort);

  if (emitError) return { status: 'failed', error: `cannot record events: ${emitError.message}` };
  if (code === 0) return { status: 'completed' };
  if (code !== null) return { status: 'failed', error: `exit code ${code}${code === 127 ? ' (command not found)' : ''}` };
  return { status: 'failed', error: `killed by ${signal ?? 'a signal'}` };
}

/** Reads `stream` to its end, line by line, emitting each non-blank line's event and awaiting it before reading on. */
async function pump(stream: Readable | null, toEvent: (line: CappedLine) => EventBody, emit: EmitEvent): Promise<void> {
  if (!stream) return;
  const splitter = new LineSplitter(LIMITS.providerLineBytes);
  const handle = async (line: CappedLine): Promise<void> => {
    const event = toEvent(line);
    if (line.text.trim() !== '' || line.truncated) await emit(event);
  };
  try {
    for await (const chunk of stream) {
      for (const line of splitter.push(chunk as Buffer)) await handle(line);
    }
  } catch {
    return; // destroyed after an emit failure; the failure is reported by the caller
  }
  for (const line of splitter.end()) await handle(line);
}
