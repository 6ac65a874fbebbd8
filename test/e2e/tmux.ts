import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A detached tmux session running one command in a pane of a fixed size. */
export interface TmuxSession {
  name: string;
  /** The pane's text now, one string per row (trailing spaces trimmed). */
  screen(): Promise<string>;
  /** Sends one key (tmux key name: `j`, `Enter`, `Escape`, `Tab`, `C-s`, …) and waits until tmux took it. */
  key(name: string): Promise<void>;
  /** Sends keys one at a time, in order (each its own `send-keys`). */
  keys(...names: string[]): Promise<void>;
  /**
   * Types `text` one character at a time (literally), waiting after each until `echoed(screen, typedSoFar)` holds,
   * so each character reaches the program as its own input chunk.
   */
  type(text: string, echoed: (screen: string, typed: string) => boolean): Promise<void>;
  /** Polls the pane until `predicate(screen)` holds; fails with the last screen after `timeoutMs`. */
  waitForScreen(what: string, predicate: (screen: string) => boolean, timeoutMs?: number): Promise<string>;
  /** A tmux format value of the pane (`#{alternate_on}`, `#{cursor_flag}`, `#{pane_dead}`, …). */
  display(format: string): Promise<string>;
  kill(): Promise<void>;
}

// A server of our own: the tests never see or touch the sessions of a tmux the developer is running. One per test
// process: a server exits with its last session, and a shared one could exit under another file's new-session
// ("server exited unexpectedly").
const SOCKET = `okesu-e2e-${process.pid}`;

async function tmux(...args: string[]): Promise<string> {
  const { stdout } = await run('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
  return stdout;
}

/** Whether tmux is installed here. */
export async function hasTmux(): Promise<boolean> {
  return run('tmux', ['-V']).then(() => true, () => false);
}

/**
 * Starts `command` (a shell command line) in a new detached session of `width`×`height`, named uniquely. The pane
 * stays after the command exits (remain-on-exit), so its last screen and exit can still be read.
 */
export async function startTmux(command: string, opts: { width?: number; height?: number; env?: Record<string, string> } = {}): Promise<TmuxSession> {
  const name = `okesu-e2e-${process.pid}-${randomBytes(4).toString('hex')}`;
  const envArgs = Object.entries(opts.env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  await tmux('new-session', '-d', '-s', name, '-x', String(opts.width ?? 120), '-y', String(opts.height ?? 40), ...envArgs, command);
  await tmux('set-option', '-t', name, 'remain-on-exit', 'on');
  const session: TmuxSession = {
    name,
    async screen() {
      const text = await tmux('capture-pane', '-p', '-t', name);
      return text.split('\n').map((l) => l.trimEnd()).join('\n');
    },
    async key(key) {
      await tmux('send-keys', '-t', name, key);
    },
    async keys(...keys) {
      for (const k of keys) await session.key(k);
    },
    async type(text, echoed) {
      for (let i = 1; i <= text.length; i++) {
        await tmux('send-keys', '-t', name, '-l', text[i - 1] as string);
        const typed = text.slice(0, i);
        await session.waitForScreen(`"${typed}" to be echoed`, (screen) => echoed(screen, typed));
      }
    },
    async waitForScreen(what, predicate, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      let last = '';
      for (;;) {
        last = await session.screen();
        if (predicate(last)) return last;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; the screen was:\n${last}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async display(format) {
      return (await tmux('display-message', '-p', '-t', name, format)).trim();
    },
    async kill() {
      await tmux('kill-session', '-t', name).catch(() => undefined);
    },
  };
  return session;
}
