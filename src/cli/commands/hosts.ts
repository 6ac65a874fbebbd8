import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import type { HostView } from '../../protocol/api.js';
import { formatAge, formatHostState, formatLabels, formatUtcSeconds, hostStateTone } from '../format.js';
import { action, usageError } from '../context.js';
import type { CliContext } from '../context.js';
import { configOption, outputFormat, outputOption } from '../options.js';
import type { Column, Tone, OutputFormat } from '../output.js';
import { certExpiry } from '../../protocol/cert-expiry.js';
import { formatCoarseDuration } from '../../protocol/duration.js';
import { isLabelKey, LABEL_KEY_RULE } from '../../protocol/labels.js';
import { formatPoll, formatTransport } from '../../protocol/host-transport.js';
import { formatHostRollout, rolloutStateTone } from './rollout-format.js';

/**
 * The CERT cell: time left on the host's identity, `⚠ 5d` once its renewal is due (a third of its lifetime or less
 * left: a daimon online renews then, so this marks one that has not), `✗ expired`, or `-` when the CP does not say.
 */
export function formatCertExpiry(h: Pick<HostView, 'cert_issued_at' | 'cert_expires_at'>, now: number): { text: string; tone?: Tone } {
  const standing = certExpiry(h.cert_issued_at, h.cert_expires_at, now);
  const left = formatCoarseDuration((h.cert_expires_at ?? now) - now);
  switch (standing) {
    case 'unknown':
      return { text: '-' };
    case 'ok':
      return { text: left };
    case 'expiring':
      return { text: `⚠ ${left}`, tone: 'warn' };
    case 'expired':
      return { text: '✗ expired', tone: 'error' };
  }
}

/** Table columns of `okesu hosts`: STATE (glyph + word), HOST, TRANSPORT (with the path in use), POLL, VERSION, ROLLOUT (its latest), LAST HEARD, RUNNING, CERT (time left), LABELS. */
export function hostColumns(now: number): Column<HostView>[] {
  return [
    { header: 'STATE', value: (h) => formatHostState(h.state), tone: (h) => hostStateTone(h.state) },
    { header: 'HOST', value: (h) => h.hostname, max: 40 },
    { header: 'TRANSPORT', value: (h) => formatTransport(h) },
    { header: 'POLL', value: (h) => formatPoll(h), align: 'right' },
    { header: 'VERSION', value: (h) => h.version || '-', max: 16 },
    { header: 'ROLLOUT', value: (h) => formatHostRollout(h.rollout), tone: (h) => (h.rollout ? rolloutStateTone(h.rollout.state) : undefined), max: 32 },
    { header: 'LAST HEARD', value: (h) => formatAge(h.last_heartbeat, now) },
    { header: 'RUNNING', value: (h) => String(h.running), align: 'right' },
    { header: 'CERT', value: (h) => formatCertExpiry(h, now).text, tone: (h) => formatCertExpiry(h, now).tone },
    { header: 'LABELS', value: (h) => formatLabels(h.labels) || '-', flex: true },
    { header: 'OS', value: (h) => [h.os, h.arch].filter(Boolean).join('/') || '-', wide: true },
    { header: 'SPOOL', value: (h) => String(h.spool_depth), align: 'right', wide: true },
    { header: 'REGISTERED', value: (h) => formatUtcSeconds(h.registered_at), wide: true },
  ];
}

const STATE_ORDER = { online: 0, stale: 1, offline: 2 } as const;

/** Hosts in table order: online first, then stale, then offline; by name within a state. */
export function sortHosts(hosts: readonly HostView[]): HostView[] {
  return [...hosts].sort((a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state] || a.hostname.localeCompare(b.hostname));
}


/** Splits `k=v` of `hosts label` (the value is kept as text; empty is allowed); a bad pair is a usage error. */
export function parseLabel(text: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected key=value, got "${text}".`);
  const key = text.slice(0, eq);
  if (!isLabelKey(key)) throw new InvalidArgumentError(`label key "${key}": expected ${LABEL_KEY_RULE}.`);
  return [key, text.slice(eq + 1)];
}

const collectKey = (value: string, previous: string[] | undefined): string[] => {
  if (!isLabelKey(value)) throw new InvalidArgumentError(`expected a label key (${LABEL_KEY_RULE}).`);
  return [...(previous ?? []), value];
};

/** Registers `okesu hosts`, `okesu hosts rm HOST` and `okesu hosts label HOST k=v… [--remove KEY]…`. */
export function registerHosts(program: Command, ctx: CliContext): void {
  const hosts = program
    .command('hosts')
    .description('show the fleet: one row per registered host')
    .option('--json', 'print the HostView array as JSON')
    .addOption(outputOption())
    .addOption(configOption())
    .addHelpText('after', '\nSTATE: ● online, ◐ stale (heartbeats late), ○ offline.\nTRANSPORT: tunnel, jobs (the bucket only), or auto with the path in use; POLL: the bucket poll interval.\nCERT: time left on the host\'s certificate; ⚠ renewal overdue (a third or less left), ✗ expired (the host must join again).\nROLLOUT: the host\'s state in its latest rollout and that rollout\'s version (okesu upgrade), e.g. healthy 0.2.0.')
    .action(
      action(ctx, async (opts: { json?: boolean; output?: OutputFormat; config?: string }) => {
        const list = await ctx.connect(opts.config).client.hosts();
        ctx.out.printList(outputFormat(opts), sortHosts(list), hostColumns(ctx.now()), { value: list, empty: 'no hosts registered yet; join one with: okesu token create --join' });
      }),
    );

  hosts
    .command('rm')
    .description('remove a host: revokes its certificate and credential (admin)')
    .argument('<host>', 'hostname')
    .addOption(configOption())
    .action(
      action(ctx, async (host: string, opts: { config?: string }) => {
        const res = await ctx.connect(opts.config).client.removeHost(host);
        ctx.out.printLine(`removed ${res.hostname}`);
      }),
    );

  const label = hosts
    .command('label')
    .description('set or remove operator labels of a host (operator); orchestration steps select hosts by label')
    .argument('<host>', 'hostname')
    .argument('[labels...]', 'labels to set, as key=value')
    .option('--remove <key>', 'a label to remove (repeatable)', collectKey)
    .option('--json', 'print the HostView as JSON')
    .addOption(configOption())
    .addHelpText('after', '\nExamples:\n  okesu hosts label web-01 env=prod role=web\n  okesu hosts label web-01 --remove role');
  label.action(
    action(ctx, async (host: string, pairs: string[], opts: { remove?: string[]; json?: boolean; config?: string }) => {
      let set: Record<string, string>;
      try {
        set = Object.fromEntries(pairs.map(parseLabel));
      } catch (err) {
        usageError(label, err instanceof Error ? err.message : String(err));
      }
      const remove = opts.remove ?? [];
      if (pairs.length === 0 && remove.length === 0) usageError(label, 'give labels to set (key=value) or --remove KEY');
      const both = remove.filter((k) => Object.hasOwn(set, k));
      if (both.length > 0) usageError(label, `${both.join(', ')}: set and removed at once`);
      const view = await ctx.connect(opts.config).client.setHostLabels(host, { set, remove });
      if (opts.json) ctx.out.printJson(view);
      else ctx.out.printLine(`${view.hostname}: ${formatLabels(view.labels) || '(no labels)'}`);
    }),
  );
}
