import type { Command } from 'commander';
import { buildProgram, runProgram } from './program-base.js';
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
import { registerNotify } from './commands/notify.js';
import { registerTail } from './commands/tail.js';
import { registerToken } from './commands/token.js';
import { registerWhoami } from './commands/whoami.js';
import { registerCpServe } from './commands/cp-serve.js';
import { registerDaemon } from './commands/daemon.js';
import { registerDemo } from './commands/demo.js';
import { registerDeploy } from './commands/deploy.js';
import { registerSupervise } from './commands/supervise.js';
import { registerInstall } from './commands/install.js';
import { registerUninstall } from './commands/uninstall.js';
import { registerCompletion } from './commands/completion.js';

export type { CliDeps, CliContext } from './context.js';
export { USAGE_EXIT_CODE } from './program-base.js';

/** Builds a fresh `okesu` program over `deps`; parse errors throw CommanderError (usage errors with exit code 2) instead of exiting. */
export function createProgram(deps: CliDeps): Command {
  return buildProgram(deps, registerCommands);
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
  registerDeploy(program, ctx);
  registerRelease(program, ctx);
  registerUpgrade(program, ctx);
  registerRollouts(program, ctx);
  registerNotify(program, ctx);
  // ---- server-side and demo commands (added separately) ----
  registerCpServe(program, ctx);
  registerDaemon(program, ctx);
  registerSupervise(program, ctx);
  registerDemo(program, ctx);
  registerInstall(program, ctx);
  registerUninstall(program, ctx);
  registerCompletion(program, ctx);
}

/** Parses `argv` (user arguments, without node and script), runs the command and resolves with the process exit code. */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  return runProgram(createProgram(deps), argv, deps);
}
