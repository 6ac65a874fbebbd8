import { Command, Option } from 'commander';
import { ROLES } from '../../protocol/api.js';
import type { Role, TokenView } from '../../protocol/api.js';
import { formatUtcSeconds } from '../format.js';
import { action, usageError } from '../context.js';
import type { CliContext } from '../context.js';
import { configOption, durationArg, positiveIntArg, outputFormat, outputOption } from '../options.js';
import type { Column, OutputFormat } from '../output.js';

interface CreateOptions {
  join?: boolean;
  role?: Role;
  ttl?: number;
  uses?: number;
  name?: string;
  config?: string;
}

/** Whether a listed token is usable, expired or revoked, as of `now`. */
export function tokenStatus(t: TokenView, now: number): 'active' | 'expired' | 'revoked' | 'used up' {
  if (t.revoked_at !== null) return 'revoked';
  if (t.expires_at !== null && t.expires_at <= now) return 'expired';
  if (t.uses_left !== null && t.uses_left <= 0) return 'used up';
  return 'active';
}

/** Table columns of `okesu token list`. */
export function tokenColumns(now: number): Column<TokenView>[] {
  return [
    { header: 'ID', value: (t) => t.id },
    { header: 'KIND', value: (t) => t.kind },
    { header: 'ROLE', value: (t) => t.role ?? '-' },
    { header: 'NAME', value: (t) => t.name || '-', max: 32 },
    { header: 'CREATED', value: (t) => formatUtcSeconds(t.created_at) },
    { header: 'EXPIRES', value: (t) => (t.expires_at === null ? 'never' : formatUtcSeconds(t.expires_at)) },
    { header: 'USES LEFT', value: (t) => (t.uses_left === null ? '-' : String(t.uses_left)), align: 'right' },
    { header: 'STATUS', value: (t) => tokenStatus(t, now), tone: (t) => (tokenStatus(t, now) === 'active' ? 'ok' : 'muted') },
  ];
}

/** Registers `okesu token create|list|revoke`. */
export function registerToken(program: Command, ctx: CliContext): void {
  const token = program.command('token').description('create, list and revoke join and operator tokens (admin)');

  const create = new Command('create')
    .description('create a token and print only its secret, so JOIN=$(okesu token create --join) works')
    .option('--join', 'a join token for registering a daimon')
    .addOption(new Option('--role <role>', 'an operator token with this role').choices(ROLES))
    .addOption(new Option('--ttl <duration>', 'token lifetime, e.g. 1h or 30d (join: default 1h; operator: default never expires)').argParser(durationArg))
    .addOption(new Option('--uses <n>', 'join token uses (default 1)').argParser(positiveIntArg))
    .option('--name <name>', 'a note shown in token list')
    .addOption(configOption())
    .addHelpText('after', '\nExamples:\n  JOIN=$(okesu token create --join --ttl 1h --uses 5)\n  okesu token create --role viewer --name grafana --ttl 30d');
  create.action(
    action(ctx, async (opts: CreateOptions) => {
      if (opts.join === undefined && opts.role === undefined) usageError(create, 'pass --join or --role <role>');
      if (opts.join && opts.role) usageError(create, '--join and --role exclude each other');
      if (opts.role && opts.uses !== undefined) usageError(create, '--uses applies to join tokens only');
      const { client } = ctx.connect(opts.config);
      const name = opts.name ?? '';
      const created = opts.role
        ? await client.createToken({ kind: 'operator', role: opts.role, name, ...(opts.ttl !== undefined && { ttl_ms: opts.ttl }) })
        : await client.createToken({ kind: 'join', name, ...(opts.ttl !== undefined && { ttl_ms: opts.ttl }), ...(opts.uses !== undefined && { uses: opts.uses }) });
      ctx.out.printLine(created.token);
    }),
  );
  token.addCommand(create);

  token
    .command('list')
    .description('list tokens (never their secrets)')
    .option('--json', 'print the TokenView array as JSON')
    .addOption(outputOption())
    .addOption(configOption())
    .action(
      action(ctx, async (opts: { json?: boolean; output?: OutputFormat; config?: string }) => {
        const tokens = await ctx.connect(opts.config).client.listTokens();
        ctx.out.printList(outputFormat(opts), tokens, tokenColumns(ctx.now()));
      }),
    );

  token
    .command('revoke')
    .description('revoke a token by id')
    .argument('<id>', 'token id, as shown by token list')
    .addOption(configOption())
    .action(
      action(ctx, async (id: string, opts: { config?: string }) => {
        const res = await ctx.connect(opts.config).client.revokeToken(id);
        ctx.out.printLine(`revoked ${res.id}`);
      }),
    );
}
