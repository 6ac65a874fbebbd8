import { Argument, Command, Option } from 'commander';
import type { FindingSummary } from '../../protocol/api.js';
import { SEVERITIES, TRIAGE_STATUSES } from '../../protocol/finding.js';
import type { StoredFinding, TriageStatus } from '../../protocol/finding.js';
import type { TriageAnswer } from '../../protocol/findings-api.js';
import { DEFAULT_POLICY_PATH } from '../../specs/policy-spec.js';
import { formatUtcSeconds, severityTone } from '../format.js';
import { action } from '../context.js';
import type { CliContext } from '../context.js';
import { addFilterOptions, configOption, durationArg, filterFrom, positiveIntArg, outputFormat, outputOption } from '../options.js';
import type { FilterOptions } from '../options.js';
import type { Column, OutputFormat, Tone } from '../output.js';

interface ListOptions extends FilterOptions {
  since?: number;
  limit?: number;
  json?: boolean;
  output?: OutputFormat;
  config?: string;
}

/** Table columns of `okesu findings`, sized to stay readable at 120 columns. */
export const FINDING_COLUMNS: Column<StoredFinding>[] = [
  { header: 'TIME', value: (f) => formatUtcSeconds(f.ts) },
  { header: 'SEVERITY', value: (f) => f.severity, tone: (f) => severityTone(f.severity) },
  { header: 'HOST', value: (f) => f.host, max: 24 },
  { header: 'AGENT', value: (f) => f.agent, max: 16 },
  { header: 'CATEGORY', value: (f) => f.category },
  { header: 'TITLE', value: (f) => f.title, max: 60, flex: true },
  { header: 'ID', value: (f) => String(f.id), align: 'right', wide: true },
  { header: 'STATUS', value: (f) => f.status, wide: true },
  { header: 'RESOURCE', value: (f) => f.resource || '-', wide: true },
  { header: 'RUN', value: (f) => f.run_id, wide: true },
];

/** One row of a summary table. */
export interface CountRow { key: string; count: number; tone?: Tone; open?: number }

/** Summary counts as three tables' rows: severities CRITICAL..INFO (all of them, with open counts), then categories and agents by count. */
export function summaryRows(summary: FindingSummary): { severity: CountRow[]; category: CountRow[]; agent: CountRow[] } {
  const byCount = (rec: Record<string, number>): CountRow[] =>
    Object.entries(rec)
      .map(([key, count]) => ({ key, count }))
      .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
  return {
    severity: SEVERITIES.map((s) => ({ key: s, count: summary.by_severity[s] ?? 0, tone: severityTone(s), open: summary.open_by_severity[s] ?? 0 })),
    category: byCount(summary.by_category),
    agent: byCount(summary.by_agent),
  };
}

const countColumns = (header: string): Column<CountRow>[] => [
  { header, value: (r) => r.key, tone: (r) => r.tone },
  { header: 'COUNT', value: (r) => String(r.count), align: 'right' },
];
const openColumn: Column<CountRow> = { header: 'OPEN', value: (r) => String(r.open ?? 0), align: 'right' };

/** Registers `okesu findings` and `okesu findings summary`. */
export function registerFindings(program: Command, ctx: CliContext): void {
  const findings = addFilterOptions(program.command('findings'))
    .description('query stored findings, oldest first (see also: findings summary, tail)')
    .addOption(new Option('--since <duration>', 'only findings from the last DURATION (e.g. 1h, 7d)').argParser(durationArg))
    .addOption(new Option('--limit <n>', 'at most N findings, the newest').argParser(positiveIntArg))
    .option('--json', 'print the StoredFinding array as JSON')
    .addOption(outputOption())
    .addOption(configOption())
    .addHelpText('after', '\n--severity L means L and above.\nExample:\n  okesu findings --severity high --since 24h')
    .action(
      action(ctx, async (opts: ListOptions) => {
        const { client } = ctx.connect(opts.config);
        const page = await client.findings({
          ...filterFrom(opts),
          ...(opts.since !== undefined && { since_ms: ctx.now() - opts.since }),
          ...(opts.limit !== undefined && { limit: opts.limit }),
        });
        ctx.out.printList(outputFormat(opts), page.findings, FINDING_COLUMNS, { empty: 'no findings match' });
      }),
    );

  const summary = addFilterOptions(new Command('summary'))
    .description('counts by severity (CRITICAL..INFO, with open ones), by category and by agent')
    .option('--json', 'print the FindingSummary as JSON')
    .addOption(configOption())
    .action(
      action(ctx, async (opts: FilterOptions & { json?: boolean; config?: string }) => {
        const result = await ctx.connect(opts.config).client.findingsSummary(filterFrom(opts));
        if (opts.json) {
          ctx.out.printJson(result);
          return;
        }
        const rows = summaryRows(result);
        const open = result.by_status['open'] ?? 0;
        ctx.out.printLine(`${result.total} finding${result.total === 1 ? '' : 's'} in ${result.groups} group${result.groups === 1 ? '' : 's'}, ${open} open`);
        ctx.out.printLine();
        ctx.out.printTable(rows.severity, [...countColumns('SEVERITY'), openColumn]);
        if (rows.category.length) {
          ctx.out.printLine();
          ctx.out.printTable(rows.category, countColumns('CATEGORY'));
        }
        if (rows.agent.length) {
          ctx.out.printLine();
          ctx.out.printTable(rows.agent, countColumns('AGENT'));
        }
      }),
    );
  findings.addCommand(summary);
  findings.addCommand(triageCommand(ctx));
}

/** `okesu findings triage ID STATUS`: sets a finding's (or its group's) status; a false positive prints a host suppression to paste. */
function triageCommand(ctx: CliContext): Command {
  return new Command('triage')
    .description('set the triage status of a finding (or, with --group, of every finding of its group)')
    .argument('<id>', 'finding id', positiveIntArg)
    .addArgument(new Argument('<status>', 'new status').choices(TRIAGE_STATUSES))
    .option('--group', 'apply to every finding of its fingerprint group')
    .option('--reason <text>', 'why (audited; a false positive\'s reason goes into the suggested suppression)')
    .option('--json', 'print the triage answer as JSON')
    .addOption(configOption())
    .addHelpText('after', [
      '',
      'false_positive also prints a suppress: entry for the host policy that would drop this finding on the host',
      `(${DEFAULT_POLICY_PATH}); the CP never writes host policy, the host owner pastes it. Example:`,
      '  okesu findings triage 42 false_positive --group --reason "runc starts containers from memfd"',
    ].join('\n'))
    .action(
      action(ctx, async (id: number, status: TriageStatus, opts: { group?: boolean; reason?: string; json?: boolean; config?: string }) => {
        const answer = await ctx.connect(opts.config).client.triageFinding(id, {
          status, scope: opts.group ? 'group' : 'finding', ...(opts.reason !== undefined && { reason: opts.reason }),
        });
        if (opts.json) {
          ctx.out.printJson(answer);
          return;
        }
        ctx.out.printLine(`${status} ${answer.scope === 'group' ? `group ${answer.fingerprint}` : `finding ${id}`}: ${answer.updated} finding${answer.updated === 1 ? '' : 's'} changed`);
        printSuggestion(ctx, answer);
      }),
    );
}

/** The suggested host suppression of a false positive, ready to paste (stdout), with where it goes (stderr). */
function printSuggestion(ctx: CliContext, answer: TriageAnswer): void {
  const suggestion = answer.suggested_suppress;
  if (!suggestion) return;
  ctx.out.status(`to drop these findings on the host, add this entry to ${DEFAULT_POLICY_PATH} there (under its suppress: list if it has one);`);
  ctx.out.status('write the real reason, check the match, and the daimon applies it at its next start:');
  for (const line of suggestion.yaml.trimEnd().split('\n')) ctx.out.printLine(line);
}
