import type { CliDeps } from './context.js';
import { registerDaemon } from './commands/daemon.js';
import { buildProgram, runProgram } from './program-base.js';

/**
 * `okesu daemon …` with the daemon command alone registered: the same root program, options and errors as
 * program.ts, without evaluating every other command's module. The daimon runs for the host's life, and its idle
 * resident memory is a measured target (bench/suites/daimon-footprint.ts).
 */
export async function runDaemonCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  return runProgram(buildProgram(deps, registerDaemon), argv, deps);
}
