import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { Option } from 'commander';
import type { Command } from 'commander';
import { OkesuError } from '../../errors.js';
import type { AgentSpec } from '../../specs/agent-spec.js';
import type { AgentCatalog } from '../../specs/agent-catalog.js';
import { builtinAgentsDir } from '../../specs/builtin-agents-dir.js';
import { formatSpecError } from '../../specs/spec-error.js';
import type { SpecError } from '../../specs/spec-error.js';
import { formatDuration } from '../../protocol/duration.js';
import { action, exitWith } from '../context.js';
import { exitCodeOfRuns } from '../exit-codes.js';
import type { CliContext } from '../context.js';
import { collectInput, durationArg, outputFormat, outputOption } from '../options.js';
import type { Column, OutputFormat } from '../output.js';
import { runLocal } from './agents-run.js';
import { registerAgentSigning } from './agents-sign.js';

const collectDir = (v: string, p: string[]): string[] => [...p, v];

// The parser (YAML, the agent schemas) is loaded on use: every okesu process, the daimon included, evaluates the
// command modules, and the daimon's footprint is a measured target.
const loadCatalog = async (dirs: string[]): Promise<AgentCatalog> => (await import('../../specs/agent-catalog.js')).loadAgentCatalog(dirs);

/** The agent search path: every `--agents DIR`, then the built-ins shipped in the package. */
export function agentSearchPath(dirs: string[]): string[] {
  return [...dirs.map((d) => resolve(d)), builtinAgentsDir()];
}

/** An agent as `okesu agents list --json` prints it. */
export function agentSummary(a: AgentSpec) {
  return {
    name: a.name, version: a.version, description: a.description, provider: a.provider, ...(a.model !== undefined && { model: a.model }),
    mode: a.mode, ...(a.intervalMs !== undefined && { interval_ms: a.intervalMs }), ...(a.cron !== undefined && { cron: a.cron }),
    tools: a.tools, collectors: a.collectors.map((c) => c.name), rules: a.rules.map((r) => r.name),
    inputs: Object.fromEntries(Object.entries(a.inputs).map(([k, v]) => [k, v.default])), source: a.source,
  };
}

const schedule = (a: AgentSpec): string => (a.intervalMs !== undefined ? `every ${formatDuration(a.intervalMs)}` : a.cron ?? '-');

/** Table columns of `okesu agents list`. */
export const AGENT_COLUMNS: Column<AgentSpec>[] = [
  { header: 'NAME', value: (a) => a.name },
  { header: 'VERSION', value: (a) => a.version },
  { header: 'PROVIDER', value: (a) => a.provider },
  { header: 'MODE', value: (a) => a.mode },
  { header: 'SCHEDULE', value: schedule },
  { header: 'RULES', value: (a) => String(a.rules.length), align: 'right' },
  { header: 'DESCRIPTION', value: (a) => a.description.replace(/\s+/g, ' '), max: 80, flex: true },
];

/** Registers `okesu agents list | validate | run` (SPEC §8.3): the agent authoring tools. */
export function registerAgents(program: Command, ctx: CliContext): void {
  const agents = program.command('agents').description('agent files: list the catalog, validate files, run one locally, sign and verify');

  agents
    .command('list')
    .description('list the agents of the search path (--agents dirs, then the built-ins)')
    .option('--agents <dir>', 'an agent directory searched before the built-ins (repeatable)', collectDir, [])
    .option('--json', 'print the agents as JSON')
    .addOption(outputOption())
    .action(
      action(ctx, async (opts: { agents: string[]; json?: boolean; output?: OutputFormat }) => {
        const catalog = await loadCatalog(agentSearchPath(opts.agents));
        for (const e of catalog.errors) ctx.out.status(`warning: ${formatSpecError(e)}`);
        const list = [...catalog.agents.values()].sort((a, b) => a.name.localeCompare(b.name));
        ctx.out.printList(outputFormat(opts), list, AGENT_COLUMNS, { value: list.map(agentSummary), empty: 'no agents' });
      }),
    );

  agents
    .command('validate <file...>')
    .description('check agent files; prints file:line:column: field: problem for each error and exits 1 if any')
    .option('--json', 'print one result per file as JSON')
    .action(
      action(ctx, async (files: string[], opts: { json?: boolean }) => {
        const results = await Promise.all(files.map(async (file) => validateFile(file)));
        if (opts.json) ctx.out.printJson(results.map((r) => ({ file: r.file, ok: r.errors.length === 0, ...(r.agent && { agent: agentSummary(r.agent) }), errors: r.errors })));
        else {
          for (const r of results) {
            if (r.errors.length === 0 && r.agent) ctx.out.printLine(`${r.file}: ok (${r.agent.name} ${r.agent.version}, ${r.agent.provider}, ${r.agent.mode})`);
            for (const e of r.errors) ctx.out.printLine(formatSpecError(e));
          }
        }
        const bad = results.filter((r) => r.errors.length > 0).length;
        if (bad > 0) exitWith(1, `${bad} of ${results.length} agent files have errors`);
      }),
    );

  agents
    .command('run <agent>')
    .description('run an agent (a name from the search path, or a .md file) on this machine and print its events')
    .option('--local', 'run here, with no CP (required: to run on hosts, use okesu run)')
    .option('--agents <dir>', 'an agent directory searched before the built-ins (repeatable)', collectDir, [])
    .option('--prompt <text>', 'the task (the first user message)', '')
    .option('--input <k=v>', 'an input of the run (repeatable); overrides the agent’s defaults', collectInput, {})
    .option('--policy <file>', 'host policy file (default: /etc/okesu/policy.yaml when it exists)')
    .option('--state-dir <dir>', 'where rule baselines and dedup state are kept', defaultLocalStateDir(ctx.deps.env))
    .addOption(new Option('--timeout <duration>', 'run timeout (default: the agent’s)').argParser(durationArg))
    .option('--json', 'print each event as one JSON line')
    .option('--secrets-file <file>', 'provider keys and URLs as NAME=value lines (mode 0600 or stricter); wins over the environment')
    .action(
      action(ctx, async (name: string, opts: LocalRunFlags) => {
        if (!opts.local) throw new OkesuError('OKS_ERR_CONFIG', 'only --local runs are supported here; to run an agent on hosts use: okesu run --host HOST AGENT');
        const agent = await findAgent(name, opts.agents);
        const status = await runLocal(ctx, agent, opts);
        if (status !== 'completed') exitWith(exitCodeOfRuns([status]), `run ${status}`);
      }),
    );

  registerAgentSigning(agents, ctx);
}

/** Flags of `okesu agents run`. */
export interface LocalRunFlags {
  local?: boolean;
  agents: string[];
  prompt: string;
  input: Record<string, unknown>;
  policy?: string;
  stateDir: string;
  timeout?: number;
  json?: boolean;
  secretsFile?: string;
}

function defaultLocalStateDir(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'okesu', 'local');
}

async function validateFile(file: string): Promise<{ file: string; agent?: AgentSpec; errors: SpecError[] }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { file, errors: [{ source: file, line: 1, column: 1, field: '', message: `cannot read: ${(err as Error).message}` }] };
  }
  const { parseAgent } = await import('../../specs/parse-agent.js');
  const parsed = parseAgent(text, file);
  return parsed.ok ? { file, agent: parsed.agent, errors: [] } : { file, errors: parsed.errors };
}

/** A `.md` path (parsed on its own) or a name looked up along the search path. */
async function findAgent(name: string, dirs: string[]): Promise<AgentSpec> {
  if (name.endsWith('.md') || name.includes('/')) {
    if (!existsSync(name)) throw new OkesuError('OKS_ERR_AGENT_UNKNOWN', `no agent file ${name}`);
    const r = await validateFile(name);
    if (!r.agent) throw new OkesuError('OKS_ERR_AGENT_INVALID', r.errors.map(formatSpecError).join('\n'));
    return r.agent;
  }
  const catalog = await loadCatalog(agentSearchPath(dirs));
  const agent = catalog.agents.get(name);
  if (agent) return agent;
  const bad = catalog.errors.filter((e) => e.source.endsWith(`/${name}.md`));
  if (bad.length > 0) throw new OkesuError('OKS_ERR_AGENT_INVALID', bad.map(formatSpecError).join('\n'));
  throw new OkesuError('OKS_ERR_AGENT_UNKNOWN', `no agent named ${name} (have: ${[...catalog.agents.keys()].sort().join(', ')})`);
}
