import type { ClientConfig } from '../../protocol/client-config.js';
import { rolloutProgress, rolloutViewSchema, type RolloutView } from '../../protocol/rollout.js';
import type { OperatorClient } from '../../transport/operator-client.js';
import type { CliContext } from '../context.js';
import { followLive, type FollowOptions } from '../follow-live.js';
import { isRolloutSettled } from './rollout-format.js';

/** Tuning of `followRollout` (tests shorten the intervals). */
export type RolloutFollowOptions = FollowOptions;

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
      rolloutProgress(next) <= rolloutProgress(current) ? undefined : { ...next, ...(next.hosts === undefined && current.hosts && { hosts: current.hosts }) },
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
