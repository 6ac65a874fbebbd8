import { Option } from 'commander';
import type { Command } from 'commander';
import { action } from '../context.js';
import type { CliContext } from '../context.js';
import { configOption, positiveIntArg } from '../options.js';
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
    .addOption(configOption())
    .addHelpText('after', '\nBatch 0 is the canary when the rollout has one.\nHost states: pending → downloading → verifying → staged → restarting → healthy | rolled_back | failed.')
    .action(
      action(ctx, async (id: string | undefined, opts: { limit?: number; json?: boolean; config?: string }) => {
        const { client } = ctx.connect(opts.config);
        if (id === undefined) {
          const list = await client.listRollouts({ limit: opts.limit });
          if (opts.json) ctx.out.printJson(list);
          else if (list.length === 0) ctx.out.status('no rollouts yet; start one with: okesu upgrade --version V --all');
          else ctx.out.printTable(list, ROLLOUT_COLUMNS);
          return;
        }
        const view = await client.getRollout(id);
        if (opts.json) return ctx.out.printJson(view);
        ctx.out.printLine(`${view.rollout_id}  version ${view.version}  ${view.state}${view.halted_reason ? ` (${view.halted_reason})` : ''}  by ${view.created_by}`);
        ctx.out.printLine(lineText(progressLine(view)));
        ctx.out.printTable(view.hosts ?? [], ROLLOUT_HOST_COLUMNS);
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
