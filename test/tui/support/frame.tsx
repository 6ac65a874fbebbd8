import { EventEmitter } from 'node:events';
import { render } from 'ink';
import type { Role } from '../../../src/protocol/api.js';
import { App } from '../../../tui/app.js';
import type { ConsoleActions } from '../../../tui/client/actions.js';
import { ConsoleProvider } from '../../../tui/hooks/console-context.js';
import { createConsoleStore, type ConsoleStore } from '../../../tui/store/console-store.js';
import type { ConsoleEvent } from '../../../tui/store/events.js';
import { initialState } from '../../../tui/store/initial-state.js';
import { reduce } from '../../../tui/store/reduce.js';

// Times in frames (formatTime) are local: pin the zone so snapshots read the same on every machine.
process.env.TZ = 'UTC';

/** The fixed clock frames are drawn at unless a test says otherwise: 2026-01-15 12:00:00 UTC. */
export const FRAME_NOW = Date.UTC(2026, 0, 15, 12, 0, 0);

/** Options of `renderConsole`. */
export interface RenderConsoleOptions {
  /** Applied to a fresh store (initial state for `cp`) before the first frame. */
  events?: ConsoleEvent[];
  /** Use this store instead (then `events` are applied to it too). */
  store?: ConsoleStore;
  width?: number;
  height?: number;
  /** The clock: a fixed time (default FRAME_NOW), or a function a test can move on. */
  now?: number | (() => number);
  /** Overrides the role of every `snapshot` event in `events` (who the token is). */
  role?: Role;
  /** Action implementations; every call is recorded in `calls` whether overridden or not. */
  actions?: Partial<ConsoleActions>;
  cp?: string;
}

/** One recorded action call. */
export interface ActionCall {
  name: keyof ConsoleActions;
  args: unknown[];
}

/** A rendered console. */
export interface RenderedConsole {
  /** The last frame drawn (plain text, no ANSI). */
  frame(): string;
  /** Sends each key separately (names as in bindings.ts: `j`, `enter`, `esc`, `shift+tab`, `ctrl+r`…), waiting for its render. */
  press(...keys: string[]): Promise<void>;
  /** Writes `raw` to stdin as one chunk (several keys arriving together), then waits for the render. */
  write(raw: string): Promise<void>;
  /** Waits for pending renders, or until `predicate(frame)` holds (rejects after `timeoutMs` with the last frame). */
  settle(predicate?: (frame: string) => boolean, timeoutMs?: number): Promise<void>;
  /** Applies an event to the store and waits for the render. */
  dispatch(event: ConsoleEvent): Promise<void>;
  /** Resizes the fake terminal (emits `resize`) and waits for the render. */
  resize(width: number, height: number): Promise<void>;
  store: ConsoleStore;
  calls: ActionCall[];
  unmount(): void;
}

const NAMED_KEYS: Readonly<Record<string, string>> = {
  enter: '\r',
  esc: '\u001B',
  tab: '\t',
  'shift+tab': '\u001B[Z',
  up: '\u001B[A',
  down: '\u001B[B',
  right: '\u001B[C',
  left: '\u001B[D',
  pageup: '\u001B[5~',
  pagedown: '\u001B[6~',
  home: '\u001B[H',
  end: '\u001B[F',
  backspace: '\u007F',
  delete: '\u001B[3~',
  space: ' ',
};

/** The bytes a terminal sends for a key name (`ctrl+x` → 0x18); throws on a name it does not know. */
export function keySequence(name: string): string {
  const named = NAMED_KEYS[name];
  if (named !== undefined) return named;
  const ctrl = /^ctrl\+([a-z])$/.exec(name);
  if (ctrl !== null) return String.fromCharCode(ctrl[1]!.charCodeAt(0) - 96);
  if ([...name].length === 1) return name;
  throw new Error(`frame helper: unknown key name ${JSON.stringify(name)}`);
}

class FakeStdout extends EventEmitter {
  frames: string[] = [];
  isTTY = false;
  constructor(
    public columns: number,
    public rows: number,
  ) {
    super();
  }
  write = (frame: string): boolean => {
    this.frames.push(frame);
    this.emit('frame', frame);
    return true;
  };
}

class FakeStdin extends EventEmitter {
  isTTY = true;
  private data: string | null = null;
  write(data: string): void {
    this.data = data;
    this.emit('readable');
  }
  read = (): string | null => {
    const { data } = this;
    this.data = null;
    return data;
  };
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}

/** Lets timers-free work finish: React's scheduled renders and Ink's lone-escape flush (both on setImmediate). */
async function drain(turns = 4): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

function recordingActions(calls: ActionCall[], over: Partial<ConsoleActions>): ConsoleActions {
  const defaults: ConsoleActions = {
    triage: async () => undefined,
    approveStep: async () => undefined,
    rejectStep: async () => undefined,
    cancelOrchestrationRun: async () => undefined,
    cancelRun: async () => undefined,
    dispatchAgent: async () => [],
    startOrchestration: async () => undefined,
    openFinding: () => undefined,
    followTranscript: () => undefined,
    stopTranscript: () => undefined,
    refresh: () => undefined,
    quit: () => undefined,
  };
  const impl = { ...defaults, ...over };
  const out = {} as Record<keyof ConsoleActions, unknown>;
  for (const name of Object.keys(impl) as (keyof ConsoleActions)[]) {
    out[name] = (...args: unknown[]) => {
      calls.push({ name, args });
      return (impl[name] as (...a: unknown[]) => unknown)(...args);
    };
  }
  return out as unknown as ConsoleActions;
}

/**
 * Renders the whole console (App inside a ConsoleProvider) on a fake terminal of `width` × `height`, with B's
 * reducer over `events`, a fixed clock and recording actions. Frames are plain text. No fixed sleeps: `press`
 * and `dispatch` drain the event loop, `settle` waits on frames.
 */
export async function renderConsole(opts: RenderConsoleOptions = {}): Promise<RenderedConsole> {
  const now = typeof opts.now === 'function' ? opts.now : (): number => (opts.now as number | undefined) ?? FRAME_NOW;
  const store = opts.store ?? createConsoleStore(initialState(opts.cp ?? 'https://cp.test:8443', now()), reduce);
  const events = (opts.events ?? []).map((e) =>
    e.type === 'snapshot' && opts.role !== undefined ? { ...e, me: { ...e.me, role: opts.role } } : e,
  );
  store.dispatchMany(events);
  const calls: ActionCall[] = [];
  const actions = recordingActions(calls, opts.actions ?? {});
  const stdout = new FakeStdout(opts.width ?? 100, opts.height ?? 30);
  const stdin = new FakeStdin();
  const instance = render(
    <ConsoleProvider value={{ store, actions, now }}>
      <App />
    </ConsoleProvider>,
    {
      stdout: stdout as unknown as NodeJS.WriteStream,
      stderr: new FakeStdout(100, 30) as unknown as NodeJS.WriteStream,
      stdin: stdin as unknown as NodeJS.ReadStream,
      debug: true,
      exitOnCtrlC: false,
      patchConsole: false,
    },
  );
  const frame = (): string => stdout.frames.at(-1) ?? '';
  const settle = async (predicate?: (frame: string) => boolean, timeoutMs = 2000): Promise<void> => {
    await drain();
    if (predicate === undefined || predicate(frame())) return;
    await new Promise<void>((resolve, reject) => {
      const onFrame = (): void => {
        if (!predicate(frame())) return;
        clearTimeout(timer);
        stdout.off('frame', onFrame);
        resolve();
      };
      const timer = setTimeout(() => {
        stdout.off('frame', onFrame);
        reject(new Error(`frame never matched within ${timeoutMs} ms; last frame:\n${frame()}`));
      }, timeoutMs);
      stdout.on('frame', onFrame);
    });
  };
  await drain();
  return {
    frame,
    async press(...keys) {
      for (const key of keys) {
        stdin.write(keySequence(key));
        await drain();
      }
    },
    async write(raw) {
      stdin.write(raw);
      await drain();
    },
    settle,
    async dispatch(event) {
      store.dispatch(event);
      await drain();
    },
    async resize(width, height) {
      stdout.columns = width;
      stdout.rows = height;
      stdout.emit('resize');
      await drain();
    },
    store,
    calls,
    unmount() {
      instance.unmount();
      instance.cleanup();
    },
  };
}
