import { Command, CommanderError } from 'commander';
import { displayText } from '../text/display-text.js';
import { createContext } from './context.js';
import type { CliContext, CliDeps } from './context.js';
import { registerAgents } from './commands/agents.js';
import { registerAudit } from './commands/audit.js';
import { registerConsole } from './commands/console.js';
import { registerFindings } from './commands/findings.js';
import { registerHosts } from './commands/hosts.js';
import { registerOrchestrate } from './commands/orchestrate.js';
import { registerRelease } from './commands/release.js';
import { registerRun } from './commands/run.js';
import { registerRuns } from './commands/runs.js';
import { registerUpgrade } from './commands/upgrade.js';
import { registerRollouts } from './commands/rollouts.js';
import { registerTail } from './commands/tail.js';
import { registerToken } from './commands/token.js';
import { registerWhoami } from './commands/whoami.js';
import { registerCpServe } from './commands/cp-serve.js';
import { registerDaemon } from './commands/daemon.js';
import { registerDemo } from './commands/demo.js';
import { registerSupervise } from './commands/supervise.js';

export type { CliDeps, CliContext } from './context.js';

/** Exit code of usage errors (bad flag, missing argument, unknown command). */
export const USAGE_EXIT_CODE = 2;

/** Builds a fresh `okesu` program over `deps`; parse errors throw CommanderError (usage errors with exit code 2) instead of exiting. */
export function createProgram(deps: CliDeps): Command {
  const ctx = createContext(deps);
  const program = new Command('okesu')
    .description('Okesu: a fleet of security and SRE agents — operator commands for the control plane')
    .version(deps.version, '-V, --version', 'print the okesu version')
    .enablePositionalOptions()
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', '\nClient config: --config FILE, else $OKESU_CONFIG, else ~/.config/okesu/config.yaml\n(the CP writes admin.yaml into its state directory on first start).');

  registerCommands(program, ctx);
  applyToTree(program, (cmd) => configure(cmd, deps));
  return program;
}

function registerCommands(program: Command, ctx: CliContext): void {
  registerHosts(program, ctx);
  registerRun(program, ctx);
  registerRuns(program, ctx);
  registerFindings(program, ctx);
  registerTail(program, ctx);
  registerConsole(program, ctx);
  registerToken(program, ctx);
  registerAudit(program, ctx);
  registerWhoami(program, ctx);
  registerAgents(program, ctx);
  registerOrchestrate(program, ctx);
  registerRelease(program, ctx);
  registerUpgrade(program, ctx);
  registerRollouts(program, ctx);
  // ---- server-side and demo commands (added separately) ----
  registerCpServe(program, ctx);
  registerDaemon(program, ctx);
  registerSupervise(program, ctx);
  registerDemo(program, ctx);
}

function configure(cmd: Command, deps: CliDeps): void {
  cmd.configureOutput({
    writeOut: (text) => void deps.stdout.write(text),
    // Usage errors quote the arguments given: made safe like every other line (output.ts).
    writeErr: (text) => void deps.stderr.write(displayText(text, 'block')),
  });
  cmd.exitOverride((err) => {
    // Commander reports its own usage errors with exit code 1; okesu uses 2 for them, 1 for failures.
    const usage = err.code.startsWith('commander.') && err.exitCode === 1;
    throw usage ? new CommanderError(USAGE_EXIT_CODE, err.code, err.message) : err;
  });
}

function applyToTree(cmd: Command, fn: (c: Command) => void): void {
  fn(cmd);
  for (const sub of cmd.commands) applyToTree(sub, fn);
}

/** Parses `argv` (user arguments, without node and script), runs the command and resolves with the process exit code. */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  const program = createProgram(deps);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    createContext(deps).out.printError(err);
    return 1;
  }
}
