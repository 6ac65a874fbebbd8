import { Option } from 'commander';
import type { Command } from 'commander';
import type { AuditEntry } from '../../protocol/api.js';
import { formatUtcSeconds } from '../format.js';
import { action } from '../context.js';
import type { CliContext } from '../context.js';
import { configOption, positiveIntArg, outputFormat, outputOption } from '../options.js';
import type { Column, OutputFormat } from '../output.js';

/** `key=value` pairs of an audit entry's detail, compact JSON for non-string values. */
export function formatAuditDetail(detail: Record<string, unknown>): string {
  return Object.entries(detail)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

/** Table columns of `okesu audit`. */
export const AUDIT_COLUMNS: Column<AuditEntry>[] = [
  { header: 'TIME', value: (e) => formatUtcSeconds(e.ts) },
  { header: 'ACTOR', value: (e) => e.actor, max: 24 },
  { header: 'ROLE', value: (e) => e.role },
  { header: 'ACTION', value: (e) => e.action },
  { header: 'TARGET', value: (e) => e.target, max: 32 },
  { header: 'DETAIL', value: (e) => formatAuditDetail(e.detail) || '-', max: 80, flex: true },
];

/** Registers `okesu audit`. */
export function registerAudit(program: Command, ctx: CliContext): void {
  program
    .command('audit')
    .description('show the audit log of mutating operator actions, newest first (admin)')
    .addOption(new Option('--limit <n>', 'at most N entries').argParser(positiveIntArg))
    .option('--json', 'print the AuditEntry array as JSON')
    .addOption(outputOption())
    .addOption(configOption())
    .action(
      action(ctx, async (opts: { limit?: number; json?: boolean; output?: OutputFormat; config?: string }) => {
        const entries = await ctx.connect(opts.config).client.audit(opts.limit);
        ctx.out.printList(outputFormat(opts), entries, AUDIT_COLUMNS, { empty: 'the audit log is empty' });
      }),
    );
}
