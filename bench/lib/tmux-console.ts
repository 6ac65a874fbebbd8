import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);
const tmux = async (...args: string[]): Promise<string> => (await run('tmux', args, { encoding: 'utf8' })).stdout;

/** A program running alone in a detached tmux pane of a fixed size. */
export interface TmuxPane {
  session: string;
  /** The pane's process id (the program itself: the command is exec'd). */
  pid: number;
  screen(): Promise<string>;
  /** Sends one tmux key name (`j`, `Enter`, `Escape`, `Tab`). */
  key(name: string): Promise<void>;
  kill(): Promise<void>;
}

/** Runs `argv` (exec'd by the pane's shell, environment `env` added, CI removed) in a new `width`×`height` tmux session. */
export async function startInTmux(argv: string[], env: Record<string, string>, width: number, height: number): Promise<TmuxPane> {
  const session = `okesu-bench-${process.pid}-${randomBytes(4).toString('hex')}`;
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const vars = Object.entries(env).map(([k, v]) => `${k}=${quote(v)}`).join(' ');
  // Ink draws nothing until exit when CI is set (the console also drops it on a terminal; belt and braces here).
  const command = `exec env -u CI ${vars} ${argv.map(quote).join(' ')}`;
  await tmux('new-session', '-d', '-s', session, '-x', String(width), '-y', String(height), command);
  const pid = Number((await tmux('display-message', '-p', '-t', session, '#{pane_pid}')).trim());
  return {
    session, pid,
    screen: () => tmux('capture-pane', '-p', '-t', session),
    key: async (name) => {
      await tmux('send-keys', '-t', session, name);
    },
    kill: async () => {
      await tmux('kill-session', '-t', session).catch(() => undefined);
    },
  };
}

/** Whether tmux can be run here. */
export function hasTmux(): Promise<boolean> {
  return run('tmux', ['-V']).then(() => true, () => false);
}
