import type { HostView, RunView } from './api.js';
import { formatDuration } from './duration.js';

/**
 * A host's transport as `okesu hosts` and the console show it: `tunnel`, `jobs`, or `auto (tunnel)` / `auto (jobs)`
 * naming the path in use (plain `auto` when neither is).
 */
export function formatTransport(h: Pick<HostView, 'transport' | 'path'>): string {
  if (h.transport === 'auto') return h.path ? `auto (${h.path})` : 'auto';
  return h.transport || '-';
}

/** A host's bucket poll interval (`10s`), or `-` for a host that does not poll a bucket. */
export function formatPoll(h: Pick<HostView, 'poll_ms'>): string {
  return h.poll_ms === null ? '-' : formatDuration(h.poll_ms);
}

/**
 * A run's status as the CLI and the console show it: a jobs run still `dispatched` is `queued (bucket)` — its job waits
 * there; any other run shows `word` (default its status; the console passes its own word for the status).
 */
export function runStatusText(run: Pick<RunView, 'status' | 'route'>, word: string = run.status): string {
  return run.status === 'dispatched' && run.route === 'jobs' ? 'queued (bucket)' : word;
}
