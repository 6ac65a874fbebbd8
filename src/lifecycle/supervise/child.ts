import { spawn } from 'node:child_process';

/** How a supervised child ended: its exit code or signal, or why it could not be started at all. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when spawning failed (ENOENT, EACCES, ENOEXEC…); code and signal are null then. */
  error?: string;
  /** How long it ran (ms). */
  ranMs: number;
}

/** One running daimon under the supervisor. */
export interface SupervisedChild {
  /** Its pid; undefined when it could not be started. */
  readonly pid: number | undefined;
  /** Settles once, when it has exited (never rejects). */
  readonly exited: Promise<ChildExit>;
  /** Sends a signal if it still runs. */
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs: number): Promise<ChildExit>;
}

/**
 * Starts `command args` with the supervisor's stdio (the daimon's JSON logs go where the supervisor's go). The child
 * gets its own process group: a terminal's Ctrl-C reaches the supervisor alone, which forwards it once — a daimon
 * seeing SIGINT twice would die by the second before it stopped cleanly.
 */
export function startChild(command: string, args: readonly string[], env: NodeJS.ProcessEnv): SupervisedChild {
  const began = Date.now();
  const proc = spawn(command, [...args], { env, stdio: 'inherit', detached: true });
  let done = false;
  const exited = new Promise<ChildExit>((resolve) => {
    proc.once('error', (err: NodeJS.ErrnoException) => {
      // 'error' without a pid: it never ran. With a pid it was a failed kill(); the 'exit' event still comes.
      if (proc.pid !== undefined) return;
      done = true;
      resolve({ code: null, signal: null, error: err.code ?? err.message, ranMs: Date.now() - began });
    });
    proc.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal, ranMs: Date.now() - began });
    });
  });
  const send = (sig: NodeJS.Signals): void => {
    if (done) return;
    try {
      // SIGKILL takes the child's whole process group (its own, see above): nothing it started outlives a hung trial.
      if (sig === 'SIGKILL' && proc.pid !== undefined) process.kill(-proc.pid, sig);
      else proc.kill(sig);
    } catch {
      // Already gone between the check and the kill.
    }
  };
  return {
    pid: proc.pid,
    exited,
    signal: send,
    async stop(graceMs) {
      send('SIGTERM');
      const timer = setTimeout(() => send('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
