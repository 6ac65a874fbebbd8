import { fchmodSync, mkdirSync, openSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { ClientConfig } from '../../protocol/client-config.js';
import type { OperatorClient } from '../../transport/operator-client.js';
import { ignoreCiOnTerminal } from '../../../tui/run/ci-detection.js';
import { loadSnapshot } from '../../../tui/client/load-snapshot.js';
import type * as RunConsoleModule from '../../../tui/run-console.js';
import { action, exitWith, type CliContext } from '../context.js';
import { createLogger } from '../logger.js';
import { configOption } from '../options.js';

/**
 * Loads the console module: dist/console.js next to the bundle, or the TypeScript source when running from source.
 * The specifier is computed, so esbuild does not follow it: Ink, React and yoga stay out of dist/okesu.js, and no
 * other okesu process (the daimon above all, whose resident memory is a measured target) even parses them.
 */
export async function loadConsole(): Promise<typeof RunConsoleModule> {
  const here = import.meta.url;
  const target = here.endsWith('.ts') ? new URL('../../../tui/run-console.tsx', here) : new URL('./console.js', here);
  return (await import(target.href)) as typeof RunConsoleModule;
}

/** The console's default log file: `$XDG_STATE_HOME/okesu/console.log` (else `~/.local/state/okesu/console.log`). */
export function defaultConsoleLog(env: NodeJS.ProcessEnv, home: string = homedir()): string {
  return join(env['XDG_STATE_HOME'] || join(home, '.local', 'state'), 'okesu', 'console.log');
}

/** Opens the console on `config` in this process's terminal; resolves with its exit code. Shared with `okesu demo`. */
export async function openConsole(ctx: CliContext, opts: { config: ClientConfig; logFile: string; client?: OperatorClient }): Promise<number> {
  // deps.stdout is the process's stdout when run as the binary; a test's buffer is no terminal and is refused.
  const stdout = ctx.deps.stdout as NodeJS.WriteStream;
  ignoreCiOnTerminal(ctx.deps.env, stdout);
  // The first load goes out before the console's code is parsed (~0.3-0.6 s of Ink, React and yoga), so the CP
  // answers meanwhile: spawn → loaded fleet, a measured target (issue 17). Only with a terminal: otherwise the
  // console refuses to start and nothing should be asked of the CP.
  const firstSnapshot = opts.client && stdout.isTTY === true && process.stdin.isTTY === true ? loadSnapshot(opts.client, Date.now) : undefined;
  // Its failure is the console client's to report (it awaits it); not an unhandled rejection meanwhile.
  firstSnapshot?.catch(() => undefined);
  const { runConsole } = await loadConsole();
  mkdirSync(dirname(opts.logFile), { recursive: true, mode: 0o700 });
  const fd = openSync(opts.logFile, 'a', 0o600);
  fchmodSync(fd, 0o600);
  // The descriptor stays open after the console quits: pino's writer may still hold queued lines.
  const log = createLogger({ name: 'okesu-console', fd, level: ctx.deps.env['OKESU_LOG_LEVEL'] ?? 'info' });
  return runConsole({
    config: opts.config,
    log,
    logFile: opts.logFile,
    stdout,
    stderr: ctx.deps.stderr as NodeJS.WriteStream,
    env: ctx.deps.env,
    openStream: ctx.openStream,
    ...(opts.client && { client: opts.client }),
    ...(firstSnapshot && { firstSnapshot }),
  });
}

/** Registers `okesu console` (SPEC §8.1). */
export function registerConsole(program: Command, ctx: CliContext): void {
  program
    .command('console')
    .description('the operator terminal UI: fleet, findings, runs, dispatch and approvals, live (press ? inside for keys)')
    .option('--log <file>', 'log file (default: $XDG_STATE_HOME/okesu/console.log, else ~/.local/state/okesu/console.log)')
    .addOption(configOption())
    .addHelpText('after', '\nNeeds a terminal; in scripts use okesu tail, okesu hosts --json, okesu findings --json.')
    .action(
      action(ctx, async (opts: { log?: string; config?: string }) => {
        const { config, client } = ctx.connect(opts.config);
        const logFile = resolve(opts.log ?? defaultConsoleLog(ctx.deps.env));
        const code = await openConsole(ctx, { config, logFile, client });
        if (code !== 0) exitWith(code, `okesu console exited ${code}`);
      }),
    );
}
