import { readFileSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Option } from 'commander';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { OkesuError } from '../../errors.js';
import { DISPATCH_MODES } from '../../protocol/dispatch.js';
import { RUN_END_STATUSES } from '../../protocol/event.js';
import type { RunEvent } from '../../protocol/event.js';
import type { RunStatus, RunView } from '../../protocol/api.js';
import { formatDuration } from '../../protocol/duration.js';
import type { OperatorClient } from '../../transport/operator-client.js';
import { formatClock, oneLine } from '../format.js';
import { exitCodeOfRuns } from '../exit-codes.js';
import { action, exitWith, usageError } from '../context.js';
import type { CliContext } from '../context.js';
import { collectInput, configOption, durationArg } from '../options.js';
import { truncate } from '../output.js';
import { countByStatus, fanOut, formatRuns, LINES_MAX, targetFrom } from './run-fan-out.js';
import { runStatusText } from '../../protocol/host-transport.js';

const collectHost = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

interface RunOptions {
  host?: string[];
  hosts?: string;
  selector?: string;
  all?: boolean;
  prompt?: string;
  input?: Record<string, unknown>;
  timeout?: number;
  dispatch?: (typeof DISPATCH_MODES)[number];
  wait?: boolean;
  json?: boolean;
  config?: string;
}

/** Long-poll window of `run --wait`, under the CP's 30 s cap. */
export const WAIT_POLL_MS = 25_000;

/** The `name:` of a Markdown agent file's YAML frontmatter, or undefined when it has none. */
export function frontmatterName(text: string): string | undefined {
  const m = /^\uFEFF?---\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/.exec(text);
  if (!m) return undefined;
  let data: unknown;
  try {
    data = parseYaml(m[1] as string);
  } catch {
    return undefined;
  }
  if (data === null || typeof data !== 'object') return undefined;
  const name = (data as Record<string, unknown>).name;
  return typeof name === 'string' && name.trim() !== '' ? name.trim() : undefined;
}

/** Resolves the AGENT argument: a readable `*.md` file is sent as the definition under its frontmatter name; anything else is an agent name. */
export function resolveAgentArg(agent: string): { agent: string; definition?: string } {
  if (!agent.endsWith('.md')) return { agent };
  let isFile = false;
  try {
    isFile = statSync(agent).isFile();
  } catch {
    if (!/[\\/]/.test(agent)) return { agent };
  }
  if (!isFile) throw new OkesuError('OKS_ERR_AGENT_INVALID', `${agent} is not a readable agent file`);
  let text: string;
  try {
    text = readFileSync(agent, 'utf8');
  } catch (err) {
    throw new OkesuError('OKS_ERR_AGENT_INVALID', `cannot read ${agent}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const name = frontmatterName(text);
  if (!name) throw new OkesuError('OKS_ERR_AGENT_INVALID', `${agent}: frontmatter has no name:`);
  return { agent: name, definition: text };
}

/** True for completed, failed, timeout and cancelled. */
export function isTerminal(status: RunStatus): boolean {
  return (RUN_END_STATUSES as readonly string[]).includes(status);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** A short human summary of one run event: severity + title for a finding, the text for text, the status for run_end. */
export function summarizeEvent(ev: RunEvent): string {
  const e = ev as Record<string, unknown>;
  switch (ev.type) {
    case 'finding':
      return `${String(e.severity ?? '').toUpperCase()} ${oneLine(String(e.title ?? ''))}`;
    case 'text':
      return truncate(oneLine(String(e.text ?? '')), 300);
    case 'run_end': {
      const parts = [String(e.status ?? '')];
      if (typeof e.duration_ms === 'number') parts.push(`in ${formatDuration(e.duration_ms)}`);
      if (typeof e.findings === 'number') parts.push(`${e.findings} finding${e.findings === 1 ? '' : 's'}`);
      if (str(e.error)) parts.push(`error: ${oneLine(String(e.error))}`);
      return parts.join(', ');
    }
    default: {
      const text = str(e.message) ?? str(e.error) ?? str(e.reason) ?? str(e.name) ?? str(e.tool);
      if (text) return truncate(oneLine(text), 200);
      const { type: _t, ts: _ts, host: _h, agent: _a, run_id: _r, seq: _s, ...rest } = e;
      return Object.keys(rest).length ? truncate(JSON.stringify(rest), 200) : '';
    }
  }
}

/** The human line of an event in `run --wait`: `HH:MM:SS  seq  type  summary`. */
export function formatEventLine(ev: RunEvent): string {
  return `${formatClock(ev.ts)}  ${String(ev.seq).padStart(4)}  ${ev.type.padEnd(16)}  ${summarizeEvent(ev)}`.trimEnd();
}

/** The final status line of a run: `run r_… completed in 12s, 3 findings`. */
export function formatRunStatus(run: RunView): string {
  const parts = [`run ${run.run_id} ${runStatusText(run)}`];
  if (run.started_at !== null && run.ended_at !== null) parts[0] += ` in ${formatDuration(run.ended_at - run.started_at)}`;
  parts.push(`${run.findings} finding${run.findings === 1 ? '' : 's'}`);
  if (run.error) parts.push(`error: ${oneLine(run.error)}`);
  return parts.join(', ');
}

/** Follows a run's events with the long-poll endpoint until it is terminal and drained; survives a CP restart. */
export async function followRun(ctx: CliContext, client: OperatorClient, run: RunView, print: (ev: RunEvent) => void): Promise<RunView> {
  let after: number | undefined;
  let outage = 0;
  for (;;) {
    let page;
    try {
      page = await client.runEvents(run.run_id, after, WAIT_POLL_MS);
    } catch (err) {
      if (!(err instanceof OkesuError) || err.code !== 'OKS_ERR_CP_UNREACHABLE') throw err;
      if (outage === 0) ctx.out.status(`okesu: ${err.message}; retrying`);
      await sleep(Math.min(5000, 250 * 2 ** Math.min(outage++, 5)));
      continue;
    }
    if (outage > 0) ctx.out.status('okesu: reconnected');
    outage = 0;
    for (const ev of page.events) print(ev);
    after = page.next;
    if (isTerminal(page.run.status) && (page.events.length === 0 || page.events.some((ev) => ev.type === 'run_end'))) return page.run;
  }
}

/** Registers `okesu run AGENT --host H` (or many hosts: `--host` repeated, `--hosts`, `--selector`, `--all`). */
export function registerRun(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('run')
    .description('dispatch an agent to one host or many (by name, or a local agent .md file sent with the run)')
    .argument('<agent>', 'agent name, or path to an agent .md file')
    .option('--host <host>', 'target host (repeatable: one dispatch to every host given)', collectHost)
    .option('--hosts <a,b,c>', 'target hosts, comma-separated')
    .option('--selector <selector>', 'target the hosts whose labels match: label:k=v[,k=v] (or all)')
    .option('--all', 'target every registered host')
    .option('--prompt <text>', 'extra instructions for the agent')
    .option('--input <key=value>', 'an input (repeatable); the value is JSON when it parses, else a string', collectInput)
    .addOption(new Option('--timeout <duration>', 'run timeout (default: the agent file\'s own timeout, else 5m)').argParser(durationArg))
    .addOption(new Option('--dispatch <mode>', 'how the dispatch reaches the host').choices(DISPATCH_MODES).default('auto'))
    .option('--wait', 'one host: follow the run until it ends; many: wait for every run; exit 0 only if all completed (3 failed, 4 timed out, 5 cancelled)')
    .option('--json', 'print the RunView (many hosts: the RunView array; with --wait and one host: one event JSON per line)')
    .addOption(configOption())
    .addHelpText(
      'after',
      [
        '',
        'One host: prints the run id (with --wait, the run\'s events as they come).',
        `Many hosts (one request): one line per run (run id, host, status), or a summary`,
        `by status above ${LINES_MAX} runs. A host no transport reaches gets a run that is`,
        'already failed; the exit code is then 3 (see okesu --help for every exit code).',
        '',
        'Examples:',
        '  okesu run edr --host web-01 --wait',
        '  okesu run ./agents/disk.md --host db-02 --input threshold=90 --timeout 10m',
        '  okesu run disk-check --hosts web-01,web-02,db-01 --wait',
        '  okesu run edr --selector label:env=prod,role=web --wait --json',
        '  okesu run inventory --all',
      ].join('\n'),
    );
  cmd.action(
    action(ctx, async (agentArg: string, opts: RunOptions) => {
      const target = targetFrom(opts);
      if (typeof target === 'string') usageError(cmd, target);
      const { agent, definition } = resolveAgentArg(agentArg);
      const conn = ctx.connect(opts.config);
      const { client } = conn;
      const spec = {
        agent,
        ...(definition !== undefined && { definition }),
        prompt: opts.prompt ?? '',
        inputs: opts.input ?? {},
        ...(opts.timeout !== undefined && { timeout_ms: opts.timeout }),
        dispatch: opts.dispatch ?? 'auto',
      };
      if (target.kind !== 'host') {
        const { answer, final } = await fanOut(ctx, conn, spec, target, opts.wait ?? false);
        const runs = final ?? answer.runs;
        if (opts.json) ctx.out.printJson(runs);
        else for (const line of formatRuns(runs, `${runs.length} runs of ${agent}`)) ctx.out.printLine(line);
        const notCompleted = final?.filter((r) => r.status !== 'completed').length ?? 0;
        const problem = final
          ? notCompleted > 0 && `${notCompleted} of ${final.length} runs did not complete (${countByStatus(final)})`
          : answer.failed > 0 && `${answer.failed} of ${answer.runs.length} runs could not be dispatched`;
        if (problem) {
          ctx.out.status(`okesu: ${problem}`);
          exitWith(exitCodeOfRuns(runs.map((r) => r.status)), problem);
        }
        return;
      }
      const run = await client.createRun({
        agent,
        host: target.host,
        ...(definition !== undefined && { definition }),
        ...(opts.prompt !== undefined && { prompt: opts.prompt }),
        inputs: opts.input ?? {},
        ...(opts.timeout !== undefined && { timeout_ms: opts.timeout }),
        dispatch: opts.dispatch ?? 'auto',
      });
      if (!opts.wait) {
        if (opts.json) ctx.out.printJson(run);
        else ctx.out.printLine(run.run_id);
        return;
      }
      if (!opts.json) ctx.out.status(`okesu: run ${run.run_id} dispatched to ${run.host}`);
      const final = await followRun(ctx, client, run, (ev) => (opts.json ? ctx.out.printJsonLine(ev) : ctx.out.printLine(formatEventLine(ev))));
      if (!opts.json) ctx.out.status(formatRunStatus(final));
      if (final.status !== 'completed') exitWith(exitCodeOfRuns([final.status]), `run ${final.run_id} ${final.status}`);
    }),
  );
}
