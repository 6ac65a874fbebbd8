import { FINAL_HOST_STATES, ROLLOUT_HOST_STATES, type HostRollout, type RolloutHostState, type RolloutHostView, type RolloutView } from '../../protocol/rollout.js';
import { formatUtcSeconds } from '../format.js';
import { toned, type Column, type Span, type Tone } from '../output.js';

/** The tone of a host's rollout state: healthy ok, rolled back or failed error, on its way warn, not yet ordered muted. */
export function rolloutStateTone(state: RolloutHostState): Tone {
  if (state === 'healthy') return 'ok';
  if (state === 'rolled_back' || state === 'failed') return 'error';
  return state === 'pending' ? 'muted' : 'warn';
}

/** The ROLLOUT cell of `okesu hosts`: `healthy 0.2.0`, `rolled_back 0.2.0`, `staged 0.2.0`, or `-` when never in one. */
export function formatHostRollout(r: HostRollout | null | undefined): string {
  return r ? `${r.state} ${r.version}` : '-';
}

/** Hosts of a rollout that are final. */
export function finalCount(counts: RolloutView['counts']): number {
  return FINAL_HOST_STATES.reduce((n, s) => n + (counts[s] ?? 0), 0);
}

/** Hosts in a rollout. */
export function totalCount(counts: RolloutView['counts']): number {
  return ROLLOUT_HOST_STATES.reduce((n, s) => n + (counts[s] ?? 0), 0);
}

/** A text bar of `width` cells filled in proportion to `done / total`: `[######----]`. */
export function progressBar(done: number, total: number, width = 20): string {
  const filled = total === 0 ? width : Math.min(width, Math.floor((done / total) * width));
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/** Counts per state, in lifecycle order, only states present: `healthy 2 · downloading 1 · pending 7`. */
export function countSpans(counts: RolloutView['counts']): Span[] {
  const present = ROLLOUT_HOST_STATES.filter((s) => (counts[s] ?? 0) > 0);
  return present.flatMap((s, i) => [...(i > 0 ? [' · '] : []), toned(`${s} ${counts[s]}`, rolloutStateTone(s))]);
}

/** One progress line of `okesu upgrade --wait`: the bar, final/total, the rollout state and the counts. */
export function progressLine(view: RolloutView): Span[] {
  const total = totalCount(view.counts);
  const done = finalCount(view.counts);
  const state = view.state === 'running' ? [] : [toned(view.state, view.state === 'completed' ? 'ok' : 'warn'), '  '];
  return [`${progressBar(done, total)} ${done}/${total}  `, ...state, ...countSpans(view.counts)];
}

/** True when every host of the rollout ended healthy (exit code 0 of `okesu upgrade --wait`). */
export function allHealthy(view: RolloutView): boolean {
  const total = totalCount(view.counts);
  return total > 0 && (view.counts.healthy ?? 0) === total;
}

/** True once a rollout orders no more hosts and none is in flight: completed, or halted/cancelled with every ordered host final. */
export function isRolloutSettled(view: RolloutView): boolean {
  if (view.state === 'completed') return true;
  if (view.state === 'running') return false;
  const inFlight = ROLLOUT_HOST_STATES.filter((s) => s !== 'pending' && !FINAL_HOST_STATES.includes(s)).reduce((n, s) => n + (view.counts[s] ?? 0), 0);
  return inFlight === 0;
}

/** Table columns of `okesu rollouts`. */
export const ROLLOUT_COLUMNS: Column<RolloutView>[] = [
  { header: 'ROLLOUT', value: (r) => r.rollout_id },
  { header: 'CREATED', value: (r) => formatUtcSeconds(r.created_at) },
  { header: 'VERSION', value: (r) => r.version, max: 24 },
  { header: 'STATE', value: (r) => r.state, tone: (r) => (r.state === 'completed' ? 'ok' : r.state === 'running' ? 'warn' : 'error') },
  { header: 'PROGRESS', value: (r) => `${finalCount(r.counts)}/${totalCount(r.counts)}`, align: 'right' },
  { header: 'HEALTHY', value: (r) => String(r.counts.healthy ?? 0), align: 'right' },
  { header: 'FAILED', value: (r) => String((r.counts.failed ?? 0) + (r.counts.rolled_back ?? 0)), align: 'right' },
  { header: 'BY', value: (r) => r.created_by, max: 24 },
  { header: 'REASON', value: (r) => r.halted_reason ?? '-', flex: true },
];

/** Table columns of `okesu rollouts ID`: one row per host. */
export const ROLLOUT_HOST_COLUMNS: Column<RolloutHostView>[] = [
  { header: 'HOST', value: (h) => h.hostname, max: 40 },
  { header: 'BATCH', value: (h) => String(h.batch), align: 'right' },
  { header: 'STATE', value: (h) => h.state, tone: (h) => rolloutStateTone(h.state) },
  { header: 'FROM', value: (h) => h.from_version || '-', max: 24 },
  { header: 'REASON', value: (h) => h.reason ?? '-', flex: true },
];
