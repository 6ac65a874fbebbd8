import type { Command } from 'commander';
import { action } from '../context.js';
import type { CliContext } from '../context.js';
import { runSteps, stepLine } from '../../lifecycle/install/plan-step.js';
import { planUninstall } from '../../lifecycle/install/uninstall-plan.js';

interface UninstallFlags {
  prefix: string;
  purge?: boolean;
  dryRun?: boolean;
}

/** Registers `okesu uninstall`: stops the daimon and removes what `okesu install` wrote (the state too with --purge). */
export function registerUninstall(program: Command, ctx: CliContext): void {
  program
    .command('uninstall')
    .description('stop the daimon and remove the unit and the executable; the state (identity, spool) is kept so a reinstall is the same host, unless --purge')
    .option('--prefix <dir>', 'root the install was made under', '/')
    .option('--purge', 'also remove the state directory (identity, key, spool) and the daimon\'s user')
    .option('--dry-run', 'print every step and change nothing')
    .action(
      action(ctx, async (opts: UninstallFlags) => {
        const plan = planUninstall({ prefix: opts.prefix, purge: opts.purge === true });
        const head = `okesu uninstall under ${plan.layout.prefix}${opts.purge ? ' (purge)' : ''}`;
        if (opts.dryRun) {
          ctx.out.printLine(`${head}: dry run; nothing is changed`);
          for (const s of plan.steps) ctx.out.printLine(stepLine(s, true));
          for (const n of plan.notes) ctx.out.printLine(`note: ${n}`);
          return;
        }
        ctx.out.status(`${head}:`);
        await runSteps(plan.steps, (line) => ctx.out.status(line));
        for (const n of plan.notes) ctx.out.status(`note: ${n}`);
        ctx.out.printLine(`okesu uninstall: removed${opts.purge ? ' (state purged)' : `; state kept in ${plan.layout.stateDir}`}`);
      }),
    );
}
