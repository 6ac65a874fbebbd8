import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { ChannelView, CreateChannelInput, DeliveryView, NotifyRulesInput } from '../../protocol/notify-api.js';
import { parseQuietRange } from '../../protocol/notify-api.js';
import { SEVERITIES } from '../../protocol/finding.js';
import { formatUtcSeconds, severityTone } from '../format.js';
import { action, exitWith, usageError } from '../context.js';
import type { CliContext } from '../context.js';
import { configOption, durationArg, outputFormat, outputOption, positiveIntArg, severityArg } from '../options.js';
import { toned, type Column, type OutputFormat } from '../output.js';

interface RuleOptions {
  minSeverity?: string;
  agent?: string[];
  host?: string[];
  category?: string[];
  label?: string[];
  digestAfter?: number;
  digestWindow?: number;
  quiet?: string;
  quietTz?: string;
  config?: string;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Adds the rule flags every `notify add KIND` takes. */
function ruleOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--min-severity <severity>', `this severity and above (default high; ${SEVERITIES.map((s) => s.toLowerCase()).join(', ')})`).argParser(severityArg))
    .option('--agent <glob>', 'only findings of agents matching (repeatable)', collect)
    .option('--host <glob>', 'only findings of hosts matching (repeatable)', collect)
    .option('--category <glob>', 'only findings of categories matching (repeatable)', collect)
    .option('--label <key=glob>', 'only hosts whose label matches (repeatable; all must match)', collect)
    .addOption(new Option('--digest-after <n>', 'new groups per window sent one by one before the rest go in a digest (default 5)').argParser(positiveIntArg))
    .addOption(new Option('--digest-window <duration>', 'the burst window, and when its digest is sent (default 5m)').argParser(durationArg))
    .option('--quiet <HH:MM-HH:MM>', 'a daily quiet period: what falls in it is sent as one digest when it ends')
    .option('--quiet-tz <zone>', 'the quiet period\'s time zone (default UTC), e.g. Europe/Paris')
    .addOption(configOption());
}

/** The rules the flags describe (the CP validates and defaults the rest). */
export function rulesFrom(cmd: Command, o: RuleOptions): NotifyRulesInput {
  const labels: Record<string, string> = {};
  for (const l of o.label ?? []) {
    const eq = l.indexOf('=');
    if (eq < 1 || eq === l.length - 1) usageError(cmd, `--label ${l}: expected key=glob`);
    labels[l.slice(0, eq)] = l.slice(eq + 1);
  }
  let quiet: NotifyRulesInput['quiet'];
  if (o.quiet !== undefined) {
    const range = parseQuietRange(o.quiet);
    if (!range) usageError(cmd, `--quiet ${o.quiet}: expected HH:MM-HH:MM, e.g. 22:00-07:00`);
    quiet = { ...range, ...(o.quietTz !== undefined && { tz: o.quietTz }) };
  } else if (o.quietTz !== undefined) usageError(cmd, '--quiet-tz needs --quiet');
  return {
    ...(o.minSeverity !== undefined && { min_severity: o.minSeverity }),
    ...(o.agent && { agents: o.agent }),
    ...(o.host && { hosts: o.host }),
    ...(o.category && { categories: o.category }),
    ...(Object.keys(labels).length > 0 && { labels }),
    ...((o.digestAfter !== undefined || o.digestWindow !== undefined) && {
      digest: { ...(o.digestAfter !== undefined && { max_groups: o.digestAfter }), ...(o.digestWindow !== undefined && { window_ms: o.digestWindow }) },
    }),
    ...(quiet && { quiet }),
  };
}

/**
 * A secret from a file (`--x-file`, trailing newline dropped), a named environment variable (`--x-env`), the flag
 * itself (visible in `ps` and shell history: the other two are preferred), or the default variable — in that order.
 */
function secretFrom(ctx: CliContext, cmd: Command, s: { file?: string; envName?: string; value?: string; defaultEnv: string; what: string }): string | undefined {
  const given = [s.file, s.envName, s.value].filter((v) => v !== undefined).length;
  if (given > 1) usageError(cmd, `give the ${s.what} one way only (file, environment variable or flag)`);
  if (s.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(s.file, 'utf8');
    } catch (err) {
      usageError(cmd, `cannot read the ${s.what} from ${s.file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    return text.replace(/\r?\n$/, '');
  }
  if (s.envName !== undefined) {
    const v = ctx.deps.env[s.envName];
    if (v === undefined || v === '') usageError(cmd, `the environment variable ${s.envName} (the ${s.what}) is not set`);
    return v;
  }
  if (s.value !== undefined) return s.value;
  const v = ctx.deps.env[s.defaultEnv];
  return v === undefined || v === '' ? undefined : v;
}

function readCa(cmd: Command, file: string | undefined): { ca_pem?: string } {
  if (file === undefined) return {};
  try {
    return { ca_pem: readFileSync(file, 'utf8') };
  } catch (err) {
    usageError(cmd, `cannot read --ca-file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** Table columns of `okesu notify list`. */
export const channelColumns: Column<ChannelView>[] = [
  { header: 'NAME', value: (c) => c.name },
  { header: 'KIND', value: (c) => c.kind },
  { header: 'TARGET', value: (c) => targetSummary(c), max: 48 },
  { header: 'MIN', value: (c) => c.rules.min_severity, tone: (c) => severityTone(c.rules.min_severity) },
  { header: 'QUIET', value: (c) => (c.rules.quiet ? `${c.rules.quiet.start}-${c.rules.quiet.end} ${c.rules.quiet.tz}` : '-') },
  { header: 'PENDING', value: (c) => String(c.counts.pending), align: 'right' },
  { header: 'DELIVERED', value: (c) => String(c.counts.delivered), align: 'right' },
  { header: 'FAILED', value: (c) => String(c.counts.failed), align: 'right', tone: (c) => (c.counts.failed > 0 ? 'error' : undefined) },
];

function targetSummary(c: ChannelView): string {
  const t = c.target;
  if (c.kind === 'webhook') return String(t['url']);
  if (c.kind === 'slack') return 'incoming webhook (set)';
  return `${String(t['host'])}:${String(t['port'])} → ${(t['to'] as string[] | undefined)?.join(', ') ?? ''}`;
}

/** Table columns of `okesu notify deliveries`. */
export const deliveryColumns: Column<DeliveryView>[] = [
  { header: 'CREATED', value: (d) => formatUtcSeconds(d.created_at) },
  { header: 'CHANNEL', value: (d) => d.channel },
  { header: 'ID', value: (d) => d.id },
  { header: 'KIND', value: (d) => (d.kind === 'digest' ? `digest(${d.total})` : d.kind) },
  {
    header: 'STATE', value: (d) => d.state,
    tone: (d) => (d.state === 'delivered' ? 'ok' : d.state === 'failed' ? 'error' : 'warn'),
  },
  { header: 'ATTEMPTS', value: (d) => String(d.attempts.length), align: 'right' },
  { header: 'LAST', value: (d) => d.attempts.at(-1)?.detail ?? (d.state === 'held' ? `held until ${formatUtcSeconds(d.due_at)}` : '-'), max: 40 },
];

/** Registers `okesu notify add|list|rm|test|deliveries`. */
export function registerNotify(program: Command, ctx: CliContext): void {
  const notify = program.command('notify').description('alert delivery: notification channels (webhook, Slack, email) and their delivery log');
  const add = notify.command('add').description('add a notification channel (admin)');

  const addChannel = async (body: CreateChannelInput, config: string | undefined): Promise<void> => {
    const view = await ctx.connect(config).client.addChannel(body);
    ctx.out.printLine(`added ${view.kind} channel ${view.name}`);
  };

  const webhook = ruleOptions(new Command('webhook'))
    .description('a JSON webhook signed with HMAC-SHA256 (docs/notifications.md)')
    .argument('<name>', 'the channel name')
    .requiredOption('--url <url>', 'where to POST (http:// or https://)')
    .option('--secret-file <file>', 'read the signing secret from a file')
    .option('--secret-env <var>', 'read the signing secret from this environment variable')
    .option('--secret <secret>', 'the signing secret itself (shows in ps and history; prefer the others or $OKESU_NOTIFY_SECRET)')
    .option('--ca-file <file>', 'extra CA certificates (PEM) for an https URL');
  webhook.action(action(ctx, async (name: string, o: RuleOptions & { url: string; secretFile?: string; secretEnv?: string; secret?: string; caFile?: string }) => {
    const secret = secretFrom(ctx, webhook, { file: o.secretFile, envName: o.secretEnv, value: o.secret, defaultEnv: 'OKESU_NOTIFY_SECRET', what: 'signing secret' });
    if (secret === undefined) usageError(webhook, 'a signing secret is needed: --secret-file, --secret-env, --secret or $OKESU_NOTIFY_SECRET');
    await addChannel({ kind: 'webhook', name, url: o.url, secret, ...readCa(webhook, o.caFile), rules: rulesFrom(webhook, o) }, o.config);
  }));
  add.addCommand(webhook);

  const slack = ruleOptions(new Command('slack'))
    .description('a Slack incoming webhook (its URL is the secret)')
    .argument('<name>', 'the channel name')
    .option('--webhook-url-file <file>', 'read the incoming-webhook URL from a file')
    .option('--webhook-url-env <var>', 'read the incoming-webhook URL from this environment variable')
    .option('--webhook-url <url>', 'the URL itself (shows in ps and history; prefer the others or $OKESU_SLACK_WEBHOOK_URL)');
  slack.action(action(ctx, async (name: string, o: RuleOptions & { webhookUrlFile?: string; webhookUrlEnv?: string; webhookUrl?: string }) => {
    const url = secretFrom(ctx, slack, { file: o.webhookUrlFile, envName: o.webhookUrlEnv, value: o.webhookUrl, defaultEnv: 'OKESU_SLACK_WEBHOOK_URL', what: 'webhook URL' });
    if (url === undefined) usageError(slack, 'the incoming-webhook URL is needed: --webhook-url-file, --webhook-url-env, --webhook-url or $OKESU_SLACK_WEBHOOK_URL');
    await addChannel({ kind: 'slack', name, webhook_url: url, rules: rulesFrom(slack, o) }, o.config);
  }));
  add.addCommand(slack);

  const email = ruleOptions(new Command('email'))
    .description('email through an SMTP server (STARTTLS unless --tls says otherwise)')
    .argument('<name>', 'the channel name')
    .requiredOption('--smtp-host <host>', 'the SMTP server')
    .addOption(new Option('--smtp-port <port>', 'its port (default 587)').argParser(positiveIntArg))
    .addOption(new Option('--tls <mode>', 'starttls (default), implicit (e.g. port 465) or none (loopback only)').choices(['starttls', 'implicit', 'none']))
    .option('--user <user>', 'SMTP user')
    .option('--password-file <file>', 'read the SMTP password from a file')
    .option('--password-env <var>', 'read the SMTP password from this environment variable (default $OKESU_SMTP_PASSWORD)')
    .requiredOption('--from <address>', 'the sender address')
    .requiredOption('--to <address>', 'a recipient (repeatable)', collect)
    .option('--ca-file <file>', 'extra CA certificates (PEM) the server may chain to');
  email.action(action(ctx, async (name: string, o: RuleOptions & {
    smtpHost: string; smtpPort?: number; tls?: 'starttls' | 'implicit' | 'none'; user?: string; passwordFile?: string; passwordEnv?: string; from: string; to: string[]; caFile?: string;
  }) => {
    const password = secretFrom(ctx, email, { file: o.passwordFile, envName: o.passwordEnv, defaultEnv: 'OKESU_SMTP_PASSWORD', what: 'SMTP password' });
    const ca = readCa(email, o.caFile);
    await addChannel({
      kind: 'email', name, host: o.smtpHost, from: o.from, to: o.to,
      ...(o.smtpPort !== undefined && { port: o.smtpPort }), ...(o.tls !== undefined && { tls: o.tls }),
      ...(o.user !== undefined && { user: o.user }), ...(password !== undefined && { password }), ...ca, rules: rulesFrom(email, o),
    }, o.config);
  }));
  add.addCommand(email);

  notify
    .command('list')
    .description('list channels with their rules and delivery counts (secrets show as "set")')
    .option('--json', 'print the ChannelView array as JSON')
    .addOption(outputOption())
    .addOption(configOption())
    .action(action(ctx, async (o: { json?: boolean; output?: OutputFormat; config?: string }) => {
      const channels = await ctx.connect(o.config).client.listChannels();
      ctx.out.printList(outputFormat(o), channels, channelColumns);
    }));

  notify
    .command('rm')
    .description('remove a channel, its pending deliveries and its log (admin)')
    .argument('<name>', 'the channel name')
    .addOption(configOption())
    .action(action(ctx, async (name: string, o: { config?: string }) => {
      await ctx.connect(o.config).client.removeChannel(name);
      ctx.out.printLine(`removed channel ${name}`);
    }));

  notify
    .command('test')
    .description('send a test message through a channel now and print the outcome (admin); exit 1 when it failed')
    .argument('<name>', 'the channel name')
    .addOption(configOption())
    .action(action(ctx, async (name: string, o: { config?: string }) => {
      const r = await ctx.connect(o.config).client.testChannel(name);
      ctx.out.printLine([toned(r.ok ? 'delivered' : 'failed', r.ok ? 'ok' : 'error'), ` ${r.channel} ${r.delivery_id} in ${r.ms} ms: ${r.detail}`]);
      if (!r.ok) exitWith(1, `test of ${name} failed`);
    }));

  notify
    .command('deliveries')
    .description('the delivery log, newest first: each delivery with its attempts')
    .argument('[name]', 'only this channel')
    .addOption(new Option('--limit <n>', 'how many deliveries (default 50, at most 500)').argParser((v) => {
      const n = positiveIntArg(v);
      if (n > 500) throw new InvalidArgumentError('at most 500.');
      return n;
    }))
    .option('--json', 'print the DeliveryView array as JSON (with every attempt)')
    .addOption(outputOption())
    .addOption(configOption())
    .action(action(ctx, async (name: string | undefined, o: { limit?: number; json?: boolean; output?: OutputFormat; config?: string }) => {
      const deliveries = await ctx.connect(o.config).client.deliveries({ ...(name !== undefined && { channel: name }), ...(o.limit !== undefined && { limit: o.limit }) });
      ctx.out.printList(outputFormat(o), deliveries, deliveryColumns);
    }));
}
