import type { Command } from 'commander';
import type { HostView } from '../../protocol/api.js';
import { formatAge, formatHostState, formatLabels, hostStateTone } from '../format.js';
import { action } from '../context.js';
import type { CliContext } from '../context.js';
import { configOption } from '../options.js';
import type { Column } from '../output.js';

/** Table columns of `okesu hosts`: STATE (glyph + word), HOST, TRANSPORT, VERSION, LAST HEARD, RUNNING, LABELS. */
export function hostColumns(now: number): Column<HostView>[] {
  return [
    { header: 'STATE', value: (h) => formatHostState(h.state), tone: (h) => hostStateTone(h.state) },
    { header: 'HOST', value: (h) => h.hostname, max: 40 },
    { header: 'TRANSPORT', value: (h) => h.transport || '-' },
    { header: 'VERSION', value: (h) => h.version || '-', max: 16 },
    { header: 'LAST HEARD', value: (h) => formatAge(h.last_heartbeat, now) },
    { header: 'RUNNING', value: (h) => String(h.running), align: 'right' },
    { header: 'LABELS', value: (h) => formatLabels(h.labels) || '-', flex: true },
  ];
}

const STATE_ORDER = { online: 0, stale: 1, offline: 2 } as const;

/** Hosts in table order: online first, then stale, then offline; by name within a state. */
export function sortHosts(hosts: readonly HostView[]): HostView[] {
  return [...hosts].sort((a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state] || a.hostname.localeCompare(b.hostname));
}

/** Registers `okesu hosts` and `okesu hosts rm HOST`. */
export function registerHosts(program: Command, ctx: CliContext): void {
  const hosts = program
    .command('hosts')
    .description('show the fleet: one row per registered host')
    .option('--json', 'print the HostView array as JSON')
    .addOption(configOption())
    .addHelpText('after', '\nSTATE: ● online, ◐ stale (heartbeats late), ○ offline.')
    .action(
      action(ctx, async (opts: { json?: boolean; config?: string }) => {
        const list = await ctx.connect(opts.config).client.hosts();
        if (opts.json) ctx.out.printJson(list);
        else if (list.length === 0) ctx.out.status('no hosts registered yet; join one with: okesu token create --join');
        else ctx.out.printTable(sortHosts(list), hostColumns(ctx.now()));
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
}
