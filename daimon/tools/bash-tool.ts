import { z } from 'zod';
import type { ContainedProcess, RunScope } from '../run/containment.js';
import { scopeOf } from '../run/detect-containment.js';
import { OutputCap, TOOL_CAPS, truncationNote } from './cap-output.js';
import { stopNote, toolSpec } from './host-tool.js';
import type { HostTool, ToolContext, ToolOutcome } from './host-tool.js';

/** Default and largest per-call timeout of `bash`. */
export const BASH_TIMEOUT_MS = { default: 60_000, max: 600_000 } as const;

const input = z.strictObject({
  command: z.string().min(1, 'must not be empty').max(64 * 1024).describe('The shell command, run with /bin/sh -c'),
  timeout_s: z
    .number()
    .positive()
    .max(BASH_TIMEOUT_MS.max / 1000)
    .optional()
    .describe(`Timeout in seconds (default ${BASH_TIMEOUT_MS.default / 1000}, at most ${BASH_TIMEOUT_MS.max / 1000})`),
});

/** Input of the bash tool. */
export type BashInput = z.infer<typeof input>;

// The command goes in as an argument, never spliced into a script: stderr joins stdout on one pipe so the two
// interleave in the order they were written, then the command replaces the wrapper.
const WRAPPER = 'exec 2>&1; exec /bin/sh -c "$1"';

/**
 * `bash`: runs a command under `sh -c` in the run's process scope with the run's allowlisted environment, stdin from
 * /dev/null, stdout and stderr combined. What the command leaves running ends with the call.
 */
export const bashTool: HostTool<BashInput> = {
  spec: toolSpec(
    'bash',
    `Run a shell command on this host with /bin/sh -c. stdin is empty; stdout and stderr are combined; output is capped at ${TOOL_CAPS.bash} bytes; the exit code is reported.`,
    input,
  ),
  input,
  subject: (i) => i.command,
  timeoutMs: (i) => (i.timeout_s === undefined ? undefined : Math.round(i.timeout_s * 1000)),
  run: runBash,
};

async function runBash(i: BashInput, ctx: ToolContext): Promise<ToolOutcome> {
  const { scope, release } = scopeOf(ctx.processes, 'bash');
  try {
    return await runIn(scope, i, ctx);
  } finally {
    await release();
  }
}

async function runIn(scope: RunScope, i: BashInput, ctx: ToolContext): Promise<ToolOutcome> {
  let proc: ContainedProcess;
  try {
    proc = scope.spawn('/bin/sh', ['-c', WRAPPER, 'sh', i.command], { cwd: ctx.cwd, env: ctx.env, stdio: ['ignore', 'pipe', 'ignore'], killGraceMs: ctx.killGraceMs });
  } catch (err) {
    return { content: `cannot start /bin/sh: ${(err as Error).message}`, isError: true, truncated: false };
  }
  const child = proc.child;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null } | Error>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', resolve);
  });
  const cap = new OutputCap(TOOL_CAPS.bash);
  const stdout = child.stdout;
  const closed = new Promise<void>((resolve) => {
    if (!stdout) return resolve();
    stdout.on('data', (chunk: Buffer) => cap.push(chunk));
    stdout.once('close', resolve);
    stdout.once('error', () => resolve());
  });

  const group = child.pid === undefined ? undefined : proc;
  const onAbort = (): void => void group?.terminate();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  if (ctx.signal.aborted) onAbort();

  // After an abort, give the group its SIGTERM grace and a little more to be gone before answering without it.
  const patience = ctx.killGraceMs + 2000;
  const result = await exited;
  ctx.signal.removeEventListener('abort', onAbort);
  if (result instanceof Error) {
    return { content: `cannot start /bin/sh: ${result.message}`, isError: true, truncated: false };
  }
  // Background jobs the command left behind (setsid or not) hold the pipe open and belong to the call: stop them too.
  group?.terminate();
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, patience).unref())]);
  stdout?.destroy();

  const lines: string[] = [];
  const text = cap.text();
  if (text !== '') lines.push(text.endsWith('\n') ? text.slice(0, -1) : text);
  if (cap.truncated) lines.push(truncationNote(cap.capBytes, `${cap.total} bytes in all`));
  const stopped = ctx.stopReason();
  if (stopped) {
    lines.push(`${stopNote(stopped, ctx.timeoutMs)} process group stopped`);
    return { content: lines.join('\n'), isError: true, truncated: cap.truncated };
  }
  if (result.code === null) {
    lines.push(`[killed by ${result.signal ?? 'a signal'}]`);
    return { content: lines.join('\n'), isError: true, truncated: cap.truncated };
  }
  lines.push(`[exit code ${result.code}${result.code === 127 ? ': command not found' : ''}]`);
  return { content: lines.join('\n'), isError: false, truncated: cap.truncated };
}
