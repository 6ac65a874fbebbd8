import type { ClientConfig } from '../../protocol/client-config.js';
import { orchestrationRunViewSchema } from '../../protocol/orchestration-api.js';
import type { OrchestrationRunView } from '../../protocol/orchestration-api.js';
import type { OperatorClient } from '../../transport/operator-client.js';
import type { CliContext } from '../context.js';
import { followLive, type FollowOptions } from '../follow-live.js';
import { isRunOver } from './orchestrate-format.js';

export type { FollowOptions } from '../follow-live.js';

/**
 * Starts a run and follows it to its end (src/cli/follow-live.ts), calling `onView` with every newer view of it from
 * the live stream's `orchestration_run` messages, or from polls while the stream is down. Resolves with the final view.
 */
export function followOrchestration(
  ctx: CliContext,
  conn: { config: ClientConfig; client: OperatorClient },
  start: () => Promise<OrchestrationRunView>,
  onView: (view: OrchestrationRunView, prev: OrchestrationRunView | undefined) => void,
  opts: FollowOptions = {},
): Promise<OrchestrationRunView> {
  return followLive(ctx, conn.config, {
    kind: 'orchestration_run',
    // Validated again here so this works whatever the stream schema's version knows about the variant.
    fromMessage: (msg) => {
      const m: { type: string; run?: unknown } = msg;
      if (m.type !== 'orchestration_run') return undefined;
      const parsed = orchestrationRunViewSchema.safeParse(m.run);
      return parsed.success ? parsed.data : undefined;
    },
    idOf: (view) => view.id,
    start,
    fetch: (id) => conn.client.getOrchestrationRun(id),
    later: (current, next) =>
      next.updated_at < current.updated_at || isRunOver(current) || JSON.stringify(next) === JSON.stringify(current) ? undefined : next,
    isOver: isRunOver,
    onView,
    noun: 'run',
    showCommand: (id) => `okesu orchestrate show ${id}`,
  }, opts);
}
