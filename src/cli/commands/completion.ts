import { Argument, Option } from 'commander';
import type { Command } from 'commander';
import { action } from '../context.js';
import type { CliContext } from '../context.js';
import { completeWords, type Candidate, type LiveKind } from '../completion/complete-words.js';
import { completionScript, FILES_MARKER, SHELLS, type Shell } from '../completion/shell-scripts.js';
import { createOperatorClient } from '../../transport/operator-client.js';
import { displayText } from '../../text/display-text.js';
import { agentSearchPath } from './agents.js';

/** How long `__complete` waits for the CP's host, agent or run names before it completes without them. */
const LIVE_TIMEOUT_MS = 1500;

/** Registers `okesu completion bash|zsh|fish` and the hidden `okesu __complete` the scripts call. */
export function registerCompletion(program: Command, ctx: CliContext): void {
  program
    .command('completion')
    .description('print a shell completion script (commands, flags, and host, agent and run names from the CP)')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .addHelpText('after', '\nLoad it into this shell:\n  source <(okesu completion bash)\n  source <(okesu completion zsh)\n  okesu completion fish | source\nInstall it: see docs/cli.md.')
    .action((shell: Shell) => void ctx.deps.stdout.write(completionScript(shell)));

  program
    .command('__complete', { hidden: true })
    .description('candidates for the word being completed (used by the completion scripts)')
    .addOption(new Option('--shell <shell>').choices(SHELLS).default('bash'))
    .addOption(new Option('--config <file>'))
    .argument('[words...]', 'the words after okesu, the last one being completed')
    .action(
      action(ctx, async (words: string[], opts: { shell: Shell; config?: string }) => {
        const typed = words.length === 0 ? [''] : words;
        const c = completeWords(program, typed);
        if (c.kind === 'files') return void ctx.deps.stdout.write(`${FILES_MARKER}\n`);
        const candidates = c.kind === 'words' ? c.candidates : [...c.also, ...(await live(ctx, c.live, opts.config)).filter((v) => v.startsWith(c.prefix)).map((v) => ({ value: c.head + v }))];
        ctx.deps.stdout.write(candidates.map((x) => line(x, opts.shell)).join(''));
      }),
    );
}

/** One candidate line; zsh and fish get its description after a tab. Host-chosen names are made safe like all output. */
function line(c: Candidate, shell: Shell): string {
  const value = displayText(c.value);
  return shell !== 'bash' && c.description ? `${value}\t${displayText(c.description)}\n` : `${value}\n`;
}

/**
 * The names of a kind: the CP's (none, silently, when there is no config or the CP does not answer in time); agents
 * also from this machine's search path (the built-ins), as `okesu run` accepts those too.
 */
async function live(ctx: CliContext, kind: LiveKind, configFlag: string | undefined): Promise<string[]> {
  if (kind !== 'agents') return fromCp(ctx, kind, configFlag);
  const [cp, local] = await Promise.all([fromCp(ctx, kind, configFlag), localAgents()]);
  return [...new Set([...cp, ...local])].sort();
}

async function localAgents(): Promise<string[]> {
  try {
    const { loadAgentCatalog } = await import('../../specs/agent-catalog.js');
    return [...(await loadAgentCatalog(agentSearchPath([]))).agents.keys()];
  } catch {
    return [];
  }
}

async function fromCp(ctx: CliContext, kind: LiveKind, configFlag: string | undefined): Promise<string[]> {
  try {
    const config = ctx.connect(configFlag).config;
    const client = (ctx.deps.createClient ?? ((cfg) => createOperatorClient(cfg, { timeoutMs: LIVE_TIMEOUT_MS })))(config);
    if (kind === 'hosts') return (await client.hosts()).map((h) => h.hostname);
    if (kind === 'agents') return (await client.listAgents()).map((a) => a.name);
    return (await client.listRuns({ limit: 50 })).map((r) => r.run_id);
  } catch {
    return [];
  }
}
