import { Option } from 'commander';
import type { Command } from 'commander';
import type { RunView } from '../../protocol/api.js';
import { formatUtcSeconds } from '../format.js';
import { action } from '../context.js';
import type { CliContext } from '../context.js';
import { configOption, positiveIntArg, outputFormat, outputOption } from '../options.js';
import type { Column, OutputFormat } from '../output.js';
import { formatRunStatus } from './run.js';
import { runStatusText } from '../../protocol/host-transport.js';

/** Table columns of `okesu runs`. */
export const RUN_COLUMNS: Column<RunView>[] = [
  { header: 'RUN', value: (r) => r.run_id },
  { header: 'CREATED', value: (r) => formatUtcSeconds(r.created_at) },
  { header: 'HOST', value: (r) => r.host, max: 32 },
  { header: 'AGENT', value: (r) => r.agent, max: 24 },
  { header: 'STATUS', value: (r) => runStatusText(r) },
  { header: 'FINDINGS', value: (r) => String(r.findings), align: 'right' },
  { header: 'ERROR', value: (r) => r.error ?? '-', max: 60, flex: true },
  { header: 'ENDED', value: (r) => (r.ended_at ? formatUtcSeconds(r.ended_at) : '-'), wide: true },
];

/** Registers `okesu runs` (list), `okesu runs show RUN` and `okesu runs cancel RUN`. */
export function registerRuns(program: Command, ctx: CliContext): void {
  const runs = program
    .command('runs')
    .description('list runs, newest first')
    .option('--host <host>', 'only runs on this host')
    .addOption(new Option('--limit <n>', 'at most N runs').argParser(positiveIntArg))
    .option('--json', 'print the RunView array as JSON')
    .addOption(outputOption())
    .addOption(configOption())
    .action(
      action(ctx, async (opts: { host?: string; limit?: number; json?: boolean; output?: OutputFormat; config?: string }) => {
        const list = await ctx.connect(opts.config).client.listRuns({ host: opts.host, limit: opts.limit });
        ctx.out.printList(outputFormat(opts), list, RUN_COLUMNS, { empty: 'no runs' });
      }),
    );
  runs
    .command('show <run>')
    .description('show one run record')
    .option('--json', 'print the RunView as JSON')
    .addOption(configOption())
    .action(
      action(ctx, async (runId: string, opts: { json?: boolean; config?: string }) => {
        const run = await ctx.connect(opts.config).client.getRun(runId);
        if (opts.json) ctx.out.printJson(run);
        else ctx.out.printLine(`${formatRunStatus(run)} (host ${run.host}, agent ${run.agent})`);
      }),
    );
  runs
    .command('cancel <run>')
    .description('cancel a run (operator): the host kills it and reports it cancelled')
    .option('--reason <text>', 'why, kept in the audit log')
    .option('--json', 'print the RunView as JSON')
    .addOption(configOption())
    .action(
      action(ctx, async (runId: string, opts: { reason?: string; json?: boolean; config?: string }) => {
        const run = await ctx.connect(opts.config).client.cancelRun(runId, opts.reason);
        if (opts.json) ctx.out.printJson(run);
        else ctx.out.printLine(`cancel sent: ${formatRunStatus(run)}`);
      }),
    );
}
