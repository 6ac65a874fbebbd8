import { Command, CommanderError } from 'commander';
import { displayText } from '../text/display-text.js';
import { createContext } from './context.js';
import { EXIT, EXIT_CODES_HELP } from './exit-codes.js';
import type { CliContext, CliDeps } from './context.js';

/** Exit code of usage errors (bad flag, missing argument, unknown command). */
export const USAGE_EXIT_CODE = EXIT.usage;

/** Adds commands to the root program. */
export type RegisterCommands = (program: Command, ctx: CliContext) => void;

/** A fresh `okesu` root program with the commands `register` adds; parse errors throw CommanderError (usage errors with exit code 2). */
export function buildProgram(deps: CliDeps, register: RegisterCommands): Command {
  const ctx = createContext(deps);
  const program = new Command('okesu')
    .description('Okesu: a fleet of security and SRE agents — operator commands for the control plane')
    .version(deps.version, '-V, --version', 'print the okesu version')
    .enablePositionalOptions()
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', `\nClient config: --config FILE, else $OKESU_CONFIG, else ~/.config/okesu/config.yaml\n(the CP writes admin.yaml into its state directory on first start).\n\n${EXIT_CODES_HELP}\n\nShell completion: okesu completion bash|zsh|fish (docs/cli.md).`);

  register(program, ctx);
  applyToTree(program, (cmd) => configure(cmd, deps));
  return program;
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

/** Parses `argv` (user arguments, without node and script) with `program`, runs the command and resolves with the process exit code. */
export async function runProgram(program: Command, argv: readonly string[], deps: CliDeps): Promise<number> {
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    createContext(deps).out.printError(err);
    return 1;
  }
}
