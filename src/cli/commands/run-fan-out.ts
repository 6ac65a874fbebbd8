import { OkesuError } from '../../errors.js';
import type { FanOutResponse, RunSpec, RunStatus, RunView } from '../../protocol/api.js';
import { RUN_END_STATUSES } from '../../protocol/event.js';
import { parseHostSelector } from '../../protocol/host-selector.js';
import type { ClientConfig } from '../../protocol/client-config.js';
import type { OperatorClient } from '../../transport/operator-client.js';
import { oneLine } from '../format.js';
import type { CliContext } from '../context.js';
import { exitWith, untilStopped } from '../context.js';

/** Above this many runs, `run` prints a summary instead of one line per run. */
export const LINES_MAX = 20;

/** Where `okesu run` sends the agent: one host (the classic single run), a list, or a selector. */
export type RunTarget = { kind: 'host'; host: string } | { kind: 'hosts'; hosts: string[] } | { kind: 'selector'; selector: string };

/** The target named by `--host` (repeatable), `--hosts a,b`, `--selector` and `--all`; a usage error text when they conflict or are missing. */
export function targetFrom(opts: { host?: string[]; hosts?: string; selector?: string; all?: boolean }): RunTarget | string {
  const listed = [...(opts.host ?? []), ...(opts.hosts ?? '').split(',')].map((h) => h.trim()).filter((h) => h !== '');
  const hosts = [...new Set(listed)];
  const kinds = [hosts.length > 0, opts.selector !== undefined, opts.all === true].filter(Boolean).length;
  if (kinds === 0) return 'give the target: --host H (repeatable), --hosts a,b,c, --selector label:k=v or --all';
  if (kinds > 1) return '--host/--hosts, --selector and --all are alternatives: give one of them';
  if (opts.all) return { kind: 'selector', selector: 'all' };
  if (opts.selector !== undefined) {
    const parsed = parseHostSelector(opts.selector);
    if (!parsed.ok) return `--selector: ${parsed.error}`;
    return { kind: 'selector', selector: opts.selector };
  }
  return hosts.length === 1 ? { kind: 'host', host: hosts[0] as string } : { kind: 'hosts', hosts };
}

/** One line of a fan-out run: `r_…  host  status  error`. */
export function formatRunLine(run: RunView, hostWidth: number): string {
  return `${run.run_id}  ${run.host.padEnd(hostWidth)}  ${run.status.padEnd(10)}  ${run.error ? oneLine(run.error) : ''}`.trimEnd();
}

/** Counts runs by status, in the order of the run lifecycle; only statuses present. */
export function countByStatus(runs: readonly RunView[]): string {
  const counts = new Map<RunStatus, number>();
  for (const r of runs) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  const order: RunStatus[] = ['dispatched', 'running', ...RUN_END_STATUSES];
  return order.filter((s) => counts.has(s)).map((s) => `${counts.get(s)} ${s}`).join(', ');
}

/** The human report of a set of runs: a line per run up to `LINES_MAX`, else a summary line and the runs that did not go well. */
export function formatRuns(runs: readonly RunView[], summaryHead: string): string[] {
  const width = Math.max(...runs.map((r) => r.host.length), 4);
  if (runs.length <= LINES_MAX) return runs.map((r) => formatRunLine(r, width));
  const bad = runs.filter((r) => r.status !== 'dispatched' && r.status !== 'running' && r.status !== 'completed');
  const shown = bad.slice(0, LINES_MAX).map((r) => formatRunLine(r, width));
  if (bad.length > LINES_MAX) shown.push(`… and ${bad.length - LINES_MAX} more not completed`);
  return [`${summaryHead}: ${countByStatus(runs)}`, ...shown];
}

/** Sends a fan-out; the stream is opened first (when waiting) so no status change after the dispatch is missed. */
export async function fanOut(
  ctx: CliContext,
  conn: { config: ClientConfig; client: OperatorClient },
  spec: RunSpec,
  target: Exclude<RunTarget, { kind: 'host' }>,
  wait: boolean,
): Promise<{ answer: FanOutResponse; final?: RunView[] }> {
  const body = { ...spec, ...(target.kind === 'hosts' ? { hosts: target.hosts } : { selector: target.selector }) };
  if (!wait) return { answer: await conn.client.createRuns(body) };

  const runs = new Map<string, RunView>();
  const early = new Map<string, RunView>(); // messages for runs we do not know yet: the answer may come after them
  let fatal: string | undefined;
  let settle: () => void = () => undefined;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  let isReady = false;
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const allEnded = (): boolean => [...runs.values()].every((r) => isEnded(r.status));
  const stream = ctx.openStream(conn.config, {
    kinds: ['run'],
    onMessage: (msg) => {
      if (msg.type === 'ready') {
        isReady = true;
        onReady();
      }
      if (msg.type !== 'run') return;
      if (runs.size === 0) early.set(msg.run.run_id, msg.run);
      else if (runs.has(msg.run.run_id)) {
        runs.set(msg.run.run_id, msg.run);
        if (allEnded()) settle();
      }
    },
    onState: (state, detail) => {
      if (state === 'closed' && detail !== undefined) {
        fatal = detail;
        onReady();
        settle();
      }
    },
  });
  try {
    await untilStopped(ctx.deps, ready);
    if (fatal !== undefined) throw new OkesuError('OKS_ERR_CP_UNREACHABLE', `live stream: ${fatal}`);
    if (!isReady) exitWith(1, 'interrupted before the dispatch; nothing was sent');
    const answer = await conn.client.createRuns(body);
    for (const r of answer.runs) runs.set(r.run_id, newer(early.get(r.run_id), r));
    early.clear();
    ctx.out.status(`okesu: ${answer.runs.length} runs of ${spec.agent}: ${countByStatus(answer.runs)}; waiting for them to end`);
    if (!allEnded()) await untilStopped(ctx.deps, settled);
    if (fatal !== undefined) throw new OkesuError('OKS_ERR_CP_UNREACHABLE', `live stream: ${fatal}`);
    return { answer, final: [...runs.values()] };
  } finally {
    stream.close();
  }
}

function isEnded(status: RunStatus): boolean {
  return (RUN_END_STATUSES as readonly string[]).includes(status);
}

const stage = (s: RunStatus): number => (isEnded(s) ? 2 : s === 'running' ? 1 : 0);
/** The later of two views of one run (statuses only move forward). */
function newer(streamed: RunView | undefined, answered: RunView): RunView {
  return streamed && stage(streamed.status) >= stage(answered.status) ? streamed : answered;
}
