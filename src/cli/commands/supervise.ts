import { resolve } from 'node:path';
import { Option } from 'commander';
import type { Command } from 'commander';
import { action, exitWith, type CliContext } from '../context.js';
import { createLogger } from '../logger.js';
import type { LogFormat } from '../pretty-log.js';
import { durationArg, logFormatOption } from '../options.js';
import { isSingleExecutable, runningExecutable } from '../../lifecycle/running-executable.js';
import { createSupervisor } from '../../lifecycle/supervise/supervisor.js';
import { OkesuError } from '../../errors.js';
import { FATAL_EXIT_CODE } from './daemon.js';

interface SuperviseFlags {
  state: string;
  restartBackoffMax: number;
  logLevel: string;
  logFormat: LogFormat;
}

/** This okesu as a command line, for when the state directory has no `bin/current` yet. */
function self(entry: string | undefined): { command: string; args: readonly string[] } {
  if (entry === undefined && !isSingleExecutable()) {
    throw new OkesuError('OKS_ERR_CONFIG', 'cannot tell how this okesu was started (no entry script): run supervise from the okesu executable');
  }
  const exe = runningExecutable(entry ?? process.execPath);
  return { command: exe.command, args: exe.args };
}

/** Registers `okesu supervise` (docs/lifecycle.md, Upgrade step 5): keeps the daimon running and rolls back failed upgrades. */
export function registerSupervise(program: Command, ctx: CliContext): void {
  program
    .command('supervise')
    .description('run the daimon under a supervisor: start STATE/bin/current (else this okesu) with the arguments after --, restart it, and roll back an upgrade that does not heartbeat')
    .usage('--state <dir> [options] -- daemon [daemon options…]')
    .requiredOption('--state <dir>', 'the daimon\'s state directory (bin/, upgrade/, health.json)')
    .option('--restart-backoff-max <dur>', 'longest pause before restarting a daimon that crashed (the first is 1s, then doubling)', durationArg, 30_000)
    .addOption(new Option('--log-level <level>', 'log level (JSON logs on stdout)').choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'))
    .addOption(logFormatOption())
    .argument('<args...>', 'what to run: daemon and its options, after --')
    .action(
      action(ctx, async (args: string[], opts: SuperviseFlags) => {
        const log = createLogger({ name: 'okesu-supervise', level: opts.logLevel, format: opts.logFormat });
        const supervisor = createSupervisor(
          { stateDir: resolve(opts.state), args, self: () => self(ctx.deps.entry), fatalExitCode: FATAL_EXIT_CODE, backoffMaxMs: opts.restartBackoffMax, env: ctx.deps.env },
          { log },
        );
        const onTerm = (): void => supervisor.stop('SIGTERM');
        const onInt = (): void => supervisor.stop('SIGINT');
        process.on('SIGTERM', onTerm);
        process.on('SIGINT', onInt);
        ctx.deps.signal?.addEventListener('abort', onTerm, { once: true });
        if (ctx.deps.signal?.aborted) onTerm();
        let code: number;
        try {
          code = await supervisor.run();
        } finally {
          process.off('SIGTERM', onTerm);
          process.off('SIGINT', onInt);
          ctx.deps.signal?.removeEventListener('abort', onTerm);
          log.flush();
        }
        if (code !== 0) exitWith(code, `the daimon exited with code ${code}`);
      }),
    );
}
