import type { ClientConfig } from '../../protocol/client-config.js';
import { ROLLOUT_HOST_STATES, rolloutViewSchema, type RolloutView } from '../../protocol/rollout.js';
import type { OperatorClient } from '../../transport/operator-client.js';
import type { CliContext } from '../context.js';
import { followLive, type FollowOptions } from '../follow-live.js';
import { isRolloutSettled } from './rollout-format.js';

/** Tuning of `followRollout` (tests shorten the intervals). */
export type RolloutFollowOptions = FollowOptions;

/**
 * How far a rollout has got: host states only move forward and a rollout leaves `running` once, so a larger score is
 * a later view (the stream and the polls may deliver views out of order).
 */
export function progressScore(view: RolloutView): number {
  const hosts = ROLLOUT_HOST_STATES.reduce((n, s, rank) => n + (view.counts[s] ?? 0) * rank, 0);
  return hosts * 2 + (view.state === 'running' ? 0 : 1);
}

/**
 * Starts a rollout and follows it until it is settled (completed, or halted/cancelled with nothing in flight) through
 * src/cli/follow-live.ts, calling `onView` with each later view; resolves with the final view with every host.
 */
export async function followRollout(
  ctx: CliContext,
  conn: { config: ClientConfig; client: OperatorClient },
  start: () => Promise<RolloutView>,
  onView: (view: RolloutView) => void,
  opts: RolloutFollowOptions = {},
): Promise<RolloutView> {
  const last = await followLive(ctx, conn.config, {
    kind: 'rollout',
    fromMessage: (msg) => {
      if (msg.type !== 'rollout') return undefined;
      const parsed = rolloutViewSchema.safeParse(msg.rollout);
      return parsed.success ? parsed.data : undefined;
    },
    idOf: (view) => view.rollout_id,
    start,
    fetch: (id) => conn.client.getRollout(id),
    // The stream's views carry no hosts: keep the last known list.
    later: (current, next) =>
      progressScore(next) <= progressScore(current) ? undefined : { ...next, ...(next.hosts === undefined && current.hosts && { hosts: current.hosts }) },
    isOver: isRolloutSettled,
    onView: (view) => onView(view),
    noun: 'rollout',
    showCommand: (id) => `okesu rollouts ${id}`,
  }, opts);
  // The final answer with every host, for the report.
  try {
    return await conn.client.getRollout(last.rollout_id);
  } catch {
    return last;
  }
}
