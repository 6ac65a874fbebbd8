import { OkesuError } from '../../errors.js';
import type { ClientConfig } from '../../protocol/client-config.js';
import { ROLLOUT_HOST_STATES, rolloutViewSchema, type RolloutView } from '../../protocol/rollout.js';
import type { OperatorClient } from '../../transport/operator-client.js';
import type { CliContext } from '../context.js';
import { exitWith, untilStopped } from '../context.js';
import { isRolloutSettled } from './rollout-format.js';

/** Tuning of `followRollout` (tests shorten the intervals). */
export interface RolloutFollowOptions {
  /** How often the rollout is asked for while the live stream is not available (default 1 s). */
  pollMs?: number;
  /** How often it is asked for even while the stream is live, as a safety net (default 15 s). */
  liveCheckMs?: number;
  /** How long the stream's `ready` is waited for before starting anyway (default 3 s). */
  readyWaitMs?: number;
}

/**
 * How far a rollout has got: host states only move forward and a rollout leaves `running` once, so a larger score is
 * a later view (the stream and the polls may deliver views out of order).
 */
export function progressScore(view: RolloutView): number {
  const hosts = ROLLOUT_HOST_STATES.reduce((n, s, rank) => n + (view.counts[s] ?? 0) * rank, 0);
  return hosts * 2 + (view.state === 'running' ? 0 : 1);
}

/**
 * Starts a rollout and follows it until it is settled (completed, or halted/cancelled with nothing in flight), calling
 * `onView` with each later view. Updates come from the live stream's `rollout` messages (opened before the rollout is
 * created, so none is missed); while the stream is down the rollout is polled. A stop (SIGINT, abort) ends the command
 * with exit code 1 and leaves the rollout going.
 */
export async function followRollout(
  ctx: CliContext,
  conn: { config: ClientConfig; client: OperatorClient },
  start: () => Promise<RolloutView>,
  onView: (view: RolloutView) => void,
  opts: RolloutFollowOptions = {},
): Promise<RolloutView> {
  const pollMs = opts.pollMs ?? 1000;
  const liveCheckMs = opts.liveCheckMs ?? 15_000;
  let live = false;
  let lastDetail: string | undefined;
  // The newest streamed view of each rollout: messages may come before the create answer names ours.
  const streamed = new Map<string, RolloutView>();
  let wake: () => void = () => undefined;

  const stream = ctx.openStream(conn.config, {
    kinds: ['rollout'],
    onMessage: (msg) => {
      if (msg.type === 'ready') live = true;
      else if (msg.type === 'rollout') {
        const parsed = rolloutViewSchema.safeParse(msg.rollout);
        if (parsed.success) streamed.set(parsed.data.rollout_id, parsed.data);
      } else return;
      wake();
    },
    onState: (state, detail) => {
      if (state === 'open') return;
      live = false;
      lastDetail = detail ?? lastDetail;
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

  let current: RolloutView | undefined;
  const take = (next: RolloutView | undefined): void => {
    if (!next || !current || progressScore(next) <= progressScore(current)) return;
    // The stream's views carry no hosts: keep the last known list.
    current = { ...next, ...(next.hosts === undefined && current.hosts && { hosts: current.hosts }) };
    onView(current);
  };

  try {
    const deadline = Date.now() + (opts.readyWaitMs ?? 3000);
    while (!live && !stopped && Date.now() < deadline) await Promise.race([nextWake(deadline - Date.now()), stop]);
    if (stopped) exitWith(1, 'interrupted before the rollout started; nothing was sent');
    if (!live) ctx.out.status(`okesu: live stream not available${lastDetail ? ` (${lastDetail})` : ''}; polling every ${pollMs} ms`);

    current = await start();
    onView(current);
    let lastCheck = Date.now();
    let outage = false;
    while (!isRolloutSettled(current)) {
      take(streamed.get(current.rollout_id));
      if (isRolloutSettled(current)) break;
      if (!live || Date.now() - lastCheck >= liveCheckMs) {
        lastCheck = Date.now();
        try {
          take(await conn.client.getRollout(current.rollout_id));
          if (outage) ctx.out.status('okesu: reconnected');
          outage = false;
        } catch (err) {
          if (!(err instanceof OkesuError) || err.code !== 'OKS_ERR_CP_UNREACHABLE') throw err;
          if (!outage) ctx.out.status(`okesu: ${err.message}; retrying`);
          outage = true;
        }
        if (isRolloutSettled(current)) break;
      }
      await Promise.race([nextWake(live ? liveCheckMs : pollMs), stop]);
      if (stopped) {
        ctx.out.status(`okesu: stopped following; the rollout goes on (okesu rollouts ${current.rollout_id})`);
        exitWith(1, `stopped following rollout ${current.rollout_id}`);
      }
    }
    // The final answer with every host, for the report.
    try {
      return await conn.client.getRollout(current.rollout_id);
    } catch {
      return current;
    }
  } finally {
    clearTimeout(timer);
    finished();
    stream.close();
  }
}
