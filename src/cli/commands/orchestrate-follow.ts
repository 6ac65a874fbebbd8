import { OkesuError } from '../../errors.js';
import type { ClientConfig } from '../../protocol/client-config.js';
import { orchestrationRunViewSchema } from '../../protocol/orchestration-api.js';
import type { OrchestrationRunView } from '../../protocol/orchestration-api.js';
import type { OperatorClient } from '../../transport/operator-client.js';
import type { CliContext } from '../context.js';
import { exitWith, untilStopped } from '../context.js';
import { isRunOver } from './orchestrate-format.js';

/** How often `--wait` asks the CP while the live stream is not available. */
export const POLL_MS = 1000;
/** How often `--wait` checks with a GET even while the stream is live (a safety net, not the main path). */
export const LIVE_CHECK_MS = 15_000;
/** How long `--wait` waits for the stream's `ready` before starting the run anyway (and polling until it comes). */
export const READY_WAIT_MS = 3000;

/** Tuning of `followOrchestration` (tests shorten the intervals). */
export interface FollowOptions {
  pollMs?: number;
  liveCheckMs?: number;
  readyWaitMs?: number;
}

/**
 * Starts a run and follows it to its end, calling `onView` with every newer view of it. Updates come from the live
 * stream's `orchestration_run` messages (the stream is opened before the run starts, so none is missed); while the
 * stream is down or refused, the run is polled every `pollMs`. Resolves with the final view; a stop (SIGINT, abort)
 * ends the command with exit code 1 and leaves the run going.
 */
export async function followOrchestration(
  ctx: CliContext,
  conn: { config: ClientConfig; client: OperatorClient },
  start: () => Promise<OrchestrationRunView>,
  onView: (view: OrchestrationRunView, prev: OrchestrationRunView | undefined) => void,
  opts: FollowOptions = {},
): Promise<OrchestrationRunView> {
  const pollMs = opts.pollMs ?? POLL_MS;
  const liveCheckMs = opts.liveCheckMs ?? LIVE_CHECK_MS;
  let live = false;
  let closed = false;
  let lost: string | undefined; // why a live stream went down, reported once
  let lastDetail: string | undefined;
  let runId: string | undefined;
  const pending: OrchestrationRunView[] = [];
  let wake: () => void = () => undefined;

  const stream = ctx.openStream(conn.config, {
    kinds: ['orchestration_run'],
    onMessage: (msg) => {
      if (msg.type === 'ready') {
        live = true;
        wake();
        return;
      }
      // Validated again here so this works whatever the stream schema's version knows about the variant.
      const m: { type: string; run?: unknown } = msg;
      if (m.type !== 'orchestration_run') return;
      const parsed = orchestrationRunViewSchema.safeParse(m.run);
      if (!parsed.success || (runId !== undefined && parsed.data.id !== runId)) return;
      pending.push(parsed.data);
      wake();
    },
    onState: (state, detail) => {
      if (state === 'open') return;
      if (live) lost = detail ?? 'closed';
      lastDetail = detail ?? lastDetail;
      if (state === 'closed') closed = true;
      live = false;
      wake();
    },
  });

  let finished: () => void = () => undefined;
  let stopped = false;
  const stop = untilStopped(ctx.deps, new Promise<void>((resolve) => (finished = resolve))).then(() => {
    stopped = true;
  });
  let timer: NodeJS.Timeout | undefined;
  const nextWake = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      clearTimeout(timer);
      timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  try {
    // Give the stream a moment to come up so the run's first transitions arrive on it.
    const deadline = Date.now() + (opts.readyWaitMs ?? READY_WAIT_MS);
    while (!live && !closed && !stopped && Date.now() < deadline) await Promise.race([nextWake(deadline - Date.now()), stop]);
    if (stopped) exitWith(1, 'interrupted before the run started; nothing was sent');
    if (!live) ctx.out.status(`okesu: live stream not available${lastDetail ? ` (${lastDetail})` : ''}; polling every ${pollMs} ms`);

    let current = await start();
    runId = current.id;
    onView(current, undefined);
    let lastCheck = Date.now();
    let outage = false;
    while (!isRunOver(current)) {
      const mine = pending.splice(0).filter((v) => v.id === current.id);
      for (const view of mine) current = advance(current, view, onView);
      if (isRunOver(current)) break;
      if (!live || Date.now() - lastCheck >= liveCheckMs) {
        if (lost !== undefined && !live) ctx.out.status(`okesu: live stream lost (${lost}); polling every ${pollMs} ms until it is back`);
        lost = undefined;
        lastCheck = Date.now();
        try {
          current = advance(current, await conn.client.getOrchestrationRun(current.id), onView);
          if (outage) ctx.out.status('okesu: reconnected');
          outage = false;
        } catch (err) {
          if (!(err instanceof OkesuError) || err.code !== 'OKS_ERR_CP_UNREACHABLE') throw err;
          if (!outage) ctx.out.status(`okesu: ${err.message}; retrying`);
          outage = true;
        }
        if (isRunOver(current)) break;
      }
      await Promise.race([nextWake(live ? liveCheckMs : pollMs), stop]);
      if (stopped) {
        ctx.out.status(`okesu: stopped following; the run goes on (okesu orchestrate show ${current.id})`);
        exitWith(1, `stopped following run ${current.id}`);
      }
    }
    return current;
  } finally {
    clearTimeout(timer);
    finished();
    stream.close();
  }
}

/** Takes `next` when it is not older than `current` (stream and polls may interleave), telling `onView`. */
function advance(
  current: OrchestrationRunView,
  next: OrchestrationRunView,
  onView: (view: OrchestrationRunView, prev: OrchestrationRunView | undefined) => void,
): OrchestrationRunView {
  if (next.updated_at < current.updated_at || isRunOver(current)) return current;
  if (JSON.stringify(next) === JSON.stringify(current)) return current;
  onView(next, current);
  return next;
}
