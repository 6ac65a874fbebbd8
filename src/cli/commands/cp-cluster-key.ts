import { resolve } from 'node:path';
import type { Command } from 'commander';
import { action, type CliContext } from '../context.js';

/** `okesu cp cluster-key --out FILE`: makes the key every replica of a replicated CP shares (cp serve --cluster-key-file). */
export function registerCpClusterKey(cp: Command, ctx: CliContext): void {
  cp.command('cluster-key')
    .description('make a new cluster key for a replicated CP (32 random bytes, base64, 0600); never overwrites FILE')
    .requiredOption('--out <file>', 'key file to create')
    .option('--json', 'print {file} as JSON')
    .action(
      action(ctx, async (opts: { out: string; json?: boolean }) => {
        // Loaded on use, like the other CP tools.
        const { createClusterKeyFile } = await import('../../cp/cluster/cluster-key.js');
        const file = resolve(opts.out);
        createClusterKeyFile(file);
        if (opts.json) {
          ctx.out.printJson({ file });
          return;
        }
        ctx.out.printLine(`wrote a new cluster key to ${file} (mode 0600)`);
        ctx.out.status(`every replica needs a copy of this same file: okesu cp serve --store postgres://… --cluster-key-file ${file}`);
        ctx.out.status('keep it secret and backed up: it seals the CA key in the store, and a lost key means a new CA and every daimon joining again');
      }),
    );
}
