import { Option } from 'commander';
import type { Command } from 'commander';
import { action } from '../context.js';
import type { CliContext } from '../context.js';
import type { OutputFormat } from '../output.js';
import { configOption, positiveIntArg, outputFormat, outputOption } from '../options.js';
import { lineText } from '../output.js';
import { progressLine, ROLLOUT_COLUMNS, ROLLOUT_HOST_COLUMNS } from './rollout-format.js';

/** Registers `okesu rollouts [ID]` (the list, or one rollout with its hosts) and `okesu rollouts cancel ID`. */
export function registerRollouts(program: Command, ctx: CliContext): void {
  const rollouts = program
    .command('rollouts')
    .description('list rollouts (okesu upgrade), newest first, or show one with its hosts')
    .argument('[id]', 'a rollout id (ro_…): show it and each host\'s state')
    .addOption(new Option('--limit <n>', 'at most N rollouts in the list').argParser(positiveIntArg))
    .option('--json', 'print the RolloutView (array) as JSON')
    .addOption(outputOption())
    .addOption(configOption())
    .addHelpText('after', '\nBatch 0 is the canary when the rollout has one.\nHost states: pending → downloading → verifying → staged → restarting → healthy | rolled_back | failed.')
    .action(
      action(ctx, async (id: string | undefined, opts: { limit?: number; json?: boolean; output?: OutputFormat; config?: string }) => {
        const { client } = ctx.connect(opts.config);
        if (id === undefined) {
          const list = await client.listRollouts({ limit: opts.limit });
          ctx.out.printList(outputFormat(opts), list, ROLLOUT_COLUMNS, { empty: 'no rollouts yet; start one with: okesu upgrade --version V --all' });
          return;
        }
        const view = await client.getRollout(id);
        const format = outputFormat(opts);
        if (format === 'json' || format === 'yaml') return ctx.out.printList(format, [], [], { value: view });
        ctx.out.printLine(`${view.rollout_id}  version ${view.version}  ${view.state}${view.halted_reason ? ` (${view.halted_reason})` : ''}  by ${view.created_by}`);
        ctx.out.printLine(lineText(progressLine(view)));
        ctx.out.printTable(view.hosts ?? [], ROLLOUT_HOST_COLUMNS, { wide: format === 'wide' });
      }),
    );
  rollouts
    .command('cancel <id>')
    .description('cancel a rollout (operator): no more hosts are ordered; those already ordered finish their upgrade')
    .option('--json', 'print the RolloutView as JSON')
    .addOption(configOption())
    .action(
      action(ctx, async (id: string, opts: { json?: boolean; config?: string }) => {
        const view = await ctx.connect(opts.config).client.cancelRollout(id);
        if (opts.json) ctx.out.printJson(view);
        else ctx.out.printLine(`${view.rollout_id} cancelled: ${lineText(progressLine(view))}`);
      }),
    );
}
