import { render } from 'ink';
import type { Logger } from 'pino';
import type { ClientConfig } from '../src/protocol/client-config.js';
import type { OperatorClient } from '../src/transport/operator-client.js';
import type { openStream as openStreamFn } from '../src/transport/stream-client.js';
import { App } from './app.js';
import { createConsoleClient } from './client/console-client.js';
import type { SnapshotEvent } from './client/load-snapshot.js';
import { ConsoleProvider } from './hooks/console-context.js';
import { createConsoleStore } from './store/console-store.js';
import { initialState } from './store/initial-state.js';
import { reduce } from './store/reduce.js';
import { limitHeapGrowth } from './run/heap-growth.js';
import { routeStrayOutputToLog } from './run/stray-output.js';
import { startTrace } from './run/trace.js';

/** What `okesu console` (and `okesu demo` in a terminal) hands the console. */
export interface RunConsoleOptions {
  config: ClientConfig;
  /** The console's logger, writing to a file (the CLI opens it 0600): never to the terminal the console draws on. */
  log: Logger;
  /** That file, named in the message if the UI fails. */
  logFile: string;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
  /** Read for OKESU_CONSOLE_TRACE (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** The API client (default: the HTTPS client for `config`). */
  client?: OperatorClient;
  /** Opens the live stream (default: the WebSocket stream client). */
  openStream?: typeof openStreamFn;
  /** A first snapshot the caller started before loading this module (see ConsoleClientOptions.firstSnapshot). */
  firstSnapshot?: Promise<SnapshotEvent>;
}

/** Exit code when the console cannot run here (no terminal). */
export const NO_TERMINAL_EXIT_CODE = 2;

/** Most redraws a second (see the render call). */
const MAX_FPS = 120;

// The console draws on the terminal's alternate screen, so leaving it puts back what the shell showed before.
const ENTER_ALT_SCREEN = '\u001B[?1049h\u001B[H';
const LEAVE_ALT_SCREEN = '\u001B[?1049l';

/**
 * Runs the console until the operator quits (`q`, ctrl+c, `:q`) or the process gets SIGINT/SIGTERM/SIGHUP; resolves with
 * the exit code: 0 after a quit, 2 without a terminal, 1 if the UI failed. The terminal is restored in every case.
 * Callers must have called ignoreCiOnTerminal() before this module (and Ink with it) was imported.
 */
export async function runConsole(opts: RunConsoleOptions): Promise<number> {
  const stdin = opts.stdin ?? process.stdin;
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  const env = opts.env ?? process.env;
  if (stdin.isTTY !== true || stdout.isTTY !== true) {
    const which = stdin.isTTY !== true ? 'stdin' : 'stdout';
    stderr.write(`okesu console needs a terminal (${which} is not a TTY); use okesu tail / okesu hosts --json in scripts\n`);
    return NO_TERMINAL_EXIT_CODE;
  }

  const log = opts.log;
  limitHeapGrowth();
  // Start-up milestones, in ms since the process started (the bench reads them).
  log.info({ cp: opts.config.cp, sinceProcessStartMs: Math.round(performance.now()) }, 'console started');
  const restoreOutput = routeStrayOutputToLog(log);
  const stopTrace = env['OKESU_CONSOLE_TRACE'] ? startTrace(env['OKESU_CONSOLE_TRACE'], stdin, stdout) : undefined;

  let quit: () => void = () => undefined;
  const quitting = new Promise<void>((resolve) => {
    quit = resolve;
  });
  const store = createConsoleStore(initialState(opts.config.cp, Date.now()), reduce);
  const client = createConsoleClient({
    config: opts.config,
    store,
    log,
    onQuit: () => quit(),
    ...(opts.client && { client: opts.client }),
    ...(opts.openStream && { openStream: opts.openStream }),
    ...(opts.firstSnapshot && { firstSnapshot: opts.firstSnapshot }),
  });
  // In raw mode ctrl+c is a key, not a signal; a signal from elsewhere still leaves through the same door.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const onSignal = (): void => quit();
  for (const s of signals) process.on(s, onSignal);
  const unsubscribe = store.subscribe(() => {
    if (!store.getState().loaded) return;
    unsubscribe();
    log.info({ hosts: store.getState().hosts.size, sinceProcessStartMs: Math.round(performance.now()) }, 'console loaded');
  });

  stdout.write(ENTER_ALT_SCREEN);
  let code = 0;
  const ink = render(
    <ConsoleProvider value={{ store, actions: client.actions, now: Date.now }}>
      <App />
    </ConsoleProvider>,
    // q and ctrl+c are bindings (ctrl+c would otherwise end Ink without stopping the client); stray console
    // output is already routed to the log file. Ink throttles redraws to maxFps: at its default (30) a key pressed
    // just after a stream update waited up to 34 ms for its frame (p99 73 ms under a 1,000 findings/s feed, 29 ms
    // at 120); the client batches stream updates every ~30 ms, so this does not add redraws.
    { stdin, stdout, stderr, exitOnCtrlC: false, patchConsole: false, maxFps: MAX_FPS },
  );
  try {
    // Never rejects: the client retries by itself and shows why in the header.
    void client.start();
    await Promise.race([quitting, ink.waitUntilExit()]);
  } catch (err) {
    log.error({ err }, 'console failed');
    code = 1;
  } finally {
    for (const s of signals) process.off(s, onSignal);
    unsubscribe();
    client.stop();
    ink.unmount();
    await ink.waitUntilExit().catch(() => undefined);
    stdout.write(LEAVE_ALT_SCREEN);
    stopTrace?.();
    restoreOutput();
    log.info({ code }, 'console stopped');
    await new Promise<void>((resolve) => log.flush(() => resolve()));
  }
  if (code !== 0) stderr.write(`okesu console failed; see ${opts.logFile}\n`);
  return code;
}
