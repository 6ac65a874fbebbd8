import type { Command } from 'commander';
import type { ReplicasResponse, ReplicaView } from '../../protocol/replicas.js';
import { action } from '../context.js';
import type { CliContext } from '../context.js';
import { formatAge } from '../format.js';
import { configOption, outputFormat, outputOption } from '../options.js';
import type { Column, Line, OutputFormat } from '../output.js';
import { toned } from '../output.js';

/** Table columns of `okesu cp replicas`: ID, LEADER (★), ALIVE (glyph + word), TUNNELS, LOAD, VERSION, URL, HEARD. */
export function replicaColumns(now: number): Column<ReplicaView>[] {
  return [
    { header: 'ID', value: (r) => r.id, max: 64 },
    { header: 'LEADER', value: (r) => (r.leader ? '★ yes' : '-'), tone: (r) => (r.leader ? 'ok' : undefined) },
    { header: 'ALIVE', value: (r) => (r.alive ? '● yes' : '○ no'), tone: (r) => (r.alive ? 'ok' : 'error') },
    { header: 'TUNNELS', value: (r) => String(r.tunnels), align: 'right' },
    { header: 'LOAD', value: (r) => r.load.toFixed(2), align: 'right' },
    { header: 'VERSION', value: (r) => r.version || '-', max: 16 },
    { header: 'URL', value: (r) => r.url || '-', flex: true },
    { header: 'HEARD', value: (r) => formatAge(r.heard_at, now) },
  ];
}

/** Replicas in table order: the leader first, then alive before dead, then by id. */
export function sortReplicas(replicas: readonly ReplicaView[]): ReplicaView[] {
  return [...replicas].sort((a, b) => Number(b.leader) - Number(a.leader) || Number(b.alive) - Number(a.alive) || a.id.localeCompare(b.id));
}

/** The status line under the table: the mode, who answered, and a bus that is down. */
export function replicasSummary(view: ReplicasResponse): Line {
  const leaders = view.replicas.filter((r) => r.leader).length;
  const alive = view.replicas.filter((r) => r.alive).length;
  const spans: Line = [
    `mode ${view.mode}, ${alive}/${view.replicas.length} alive, answered by ${view.answered_by}`,
    leaders === 1 ? '' : toned(leaders === 0 ? '; ⚠ no leader' : `; ⚠ ${leaders} leaders`, 'warn'),
    view.bus_connected ? '' : toned('; ✗ bus disconnected', 'error'),
  ];
  return spans;
}

/** `okesu cp replicas`: the CP's replicas with their tunnels, load and leadership (a single CP lists itself). */
export function registerCpReplicas(cp: Command, ctx: CliContext): void {
  cp.command('replicas')
    .description('list the control plane\'s replicas: leader, liveness, tunnels, load (viewer)')
    .option('--json', 'print the ReplicasResponse ({replicas, answered_by, mode, bus_connected}) as JSON')
    .addOption(outputOption())
    .addOption(configOption())
    .action(
      action(ctx, async (opts: { json?: boolean; output?: OutputFormat; config?: string }) => {
        const view = await ctx.connect(opts.config).client.replicas();
        const format = outputFormat(opts);
        if (format === 'json' || format === 'yaml') return ctx.out.printList(format, [], [], { value: view });
        ctx.out.printTable(sortReplicas(view.replicas), replicaColumns(ctx.now()), { wide: format === 'wide' });
        ctx.out.status(replicasSummary(view));
      }),
    );
}
