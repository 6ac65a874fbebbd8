import type { Command } from 'commander';
import { action, type CliContext } from '../context.js';

/** `okesu cp backup` and `okesu cp restore`: the CP database, copied out while it runs and put back while it does not. */
export function registerCpBackup(cp: Command, ctx: CliContext): void {
  cp.command('backup')
    .description('copy the CP database to FILE (consistent while the CP runs; 0600). The CA (ca.crt, ca.key) is not included')
    .option('--state <dir>', 'state directory of the CP', './.okesu/cp')
    .requiredOption('--out <file>', 'backup file to write (replaced atomically)')
    .option('--json', 'print {file, schema_version, hosts, tokens, findings} as JSON')
    .action(
      action(ctx, async (opts: { state: string; out: string; json?: boolean }) => {
        // Loaded on use: the daimon's commands never load the CP store or its native SQLite module.
        const { backupDatabase } = await import('../../cp/store/backup.js');
        const info = await backupDatabase(opts.state, opts.out);
        const summary = { file: opts.out, schema_version: info.schemaVersion, hosts: info.hosts, tokens: info.tokens, findings: info.findings };
        if (opts.json) ctx.out.printJson(summary);
        else ctx.out.printLine(`backed up ${opts.state} to ${opts.out}: ${info.hosts} hosts, ${info.tokens} tokens, ${info.findings} findings (schema v${info.schemaVersion})`);
      }),
    );
  cp.command('restore')
    .description('put a backup in place of the CP database; refused while a CP runs on the state directory')
    .argument('<file>', 'backup file written by okesu cp backup')
    .option('--state <dir>', 'state directory of the CP', './.okesu/cp')
    .option('--json', 'print {file, state, previous, ca_present, …} as JSON')
    .action(
      action(ctx, async (file: string, opts: { state: string; json?: boolean }) => {
        const { restoreDatabase } = await import('../../cp/store/backup.js');
        const r = await restoreDatabase(opts.state, file);
        if (opts.json) {
          ctx.out.printJson({ file, state: opts.state, previous: r.previous ?? null, ca_present: r.caPresent, schema_version: r.schemaVersion, hosts: r.hosts, tokens: r.tokens, findings: r.findings });
          return;
        }
        ctx.out.printLine(`restored ${file} into ${opts.state}: ${r.hosts} hosts, ${r.tokens} tokens, ${r.findings} findings (schema v${r.schemaVersion})`);
        if (r.previous) ctx.out.status(`the database that was there is kept as ${r.previous}`);
        if (!r.caPresent) ctx.out.status(`${opts.state} has no CA: copy ca.crt and ca.key from the original state directory before starting the CP (its daimons trust only that CA)`);
      }),
    );
}
