import type { Command } from 'commander';
import { action } from '../context.js';
import type { CliContext } from '../context.js';
import { configOption } from '../options.js';

/** Registers `okesu whoami`: checks the client config against the CP and names the token's role. */
export function registerWhoami(program: Command, ctx: CliContext): void {
  program
    .command('whoami')
    .description('show which CP and token the client config points at, and the token’s role')
    .option('--json', 'print {name, role, token_id} as JSON')
    .addOption(configOption())
    .action(
      action(ctx, async (opts: { json?: boolean; config?: string }) => {
        const { config, client } = ctx.connect(opts.config);
        const me = await client.whoami();
        if (opts.json) ctx.out.printJson(me);
        else ctx.out.printLine(`${me.name || me.token_id} (${me.role}) at ${config.cp}`);
      }),
    );
}
