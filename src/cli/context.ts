import type { Writable } from 'node:stream';
import { CommanderError } from 'commander';
import type { Command } from 'commander';
import type { ClientConfig } from '../protocol/client-config.js';
import { createOperatorClient } from '../transport/operator-client.js';
import type { OperatorClient } from '../transport/operator-client.js';
import { openStream } from '../transport/stream-client.js';
import { loadClientConfig } from './config.js';
import { createOutput } from './output.js';
import type { Output } from './output.js';

/** What the CLI needs from its process; tests pass buffers, a fixed clock and fakes. */
export interface CliDeps {
  version: string;
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  /** Ends long-running commands (`tail`, `run --wait`) like SIGINT does. */
  signal?: AbortSignal;
  /** Clock for ages and `--since` (default Date.now). */
  now?: () => number;
  /** The okesu entry script, when running as the binary; the daimon starts it as a child to parse its agents. */
  entry?: string;
  /** Builds the API client (default: the HTTPS client). */
  createClient?: (config: ClientConfig) => OperatorClient;
  /** Opens the live stream (default: the WebSocket stream client). */
  openStream?: typeof openStream;
}

/** Shared by every command's action: output, clock and a way to reach the CP. */
export interface CliContext {
  readonly deps: CliDeps;
  readonly out: Output;
  now(): number;
  /** Loads the client config (`--config`, `$OKESU_CONFIG`, default path) and builds a client for it. */
  connect(configFlag?: string): { config: ClientConfig; client: OperatorClient };
  openStream: typeof openStream;
}

/** Builds the context every command shares. */
export function createContext(deps: CliDeps): CliContext {
  const out = createOutput(deps);
  return {
    deps,
    out,
    now: deps.now ?? Date.now,
    connect(configFlag) {
      const config = loadClientConfig(configFlag, deps.env);
      const client = (deps.createClient ?? createOperatorClient)(config);
      return { config, client };
    },
    openStream: deps.openStream ?? openStream,
  };
}

/** Wraps an action: any failure is printed as `okesu: OKS_ERR_X: …` and becomes exit code 1. */
export function action<A extends unknown[]>(ctx: CliContext, fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      if (err instanceof CommanderError) throw err;
      ctx.out.printError(err);
      throw new CommanderError(1, 'okesu.failed', err instanceof Error ? err.message : String(err));
    }
  };
}

/** Ends the command with an exit code after its output was written (e.g. a run that did not complete). */
export function exitWith(code: number, message: string): never {
  throw new CommanderError(code, 'okesu.exit', message);
}

/** A usage error of `cmd`: printed by commander with its help hint, exit code 2. */
export function usageError(cmd: Command, message: string): never {
  cmd.error(`error: ${message}`, { exitCode: 2, code: 'okesu.usage' });
}

/** Resolves on SIGINT, SIGTERM or the deps' abort signal, whichever comes first; `also` can end the wait too. */
export function untilStopped(deps: CliDeps, also?: Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      deps.signal?.removeEventListener('abort', done);
      resolve();
    };
    if (deps.signal?.aborted) return done();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    deps.signal?.addEventListener('abort', done, { once: true });
    also?.then(done, done);
  });
}
