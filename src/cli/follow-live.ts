import { OkesuError } from '../errors.js';
import type { StreamMessage } from '../protocol/api.js';
import type { ClientConfig } from '../protocol/client-config.js';
import type { CliContext } from './context.js';
import { exitWith, untilStopped } from './context.js';

/** How often `--wait` asks the CP while the live stream is not available. */
export const POLL_MS = 1000;
/** How often `--wait` checks with a GET even while the stream is live (a safety net, not the main path). */
export const LIVE_CHECK_MS = 15_000;
/** How long `--wait` waits for the stream's `ready` before starting anyway (and polling until it comes). */
export const READY_WAIT_MS = 3000;
/** Streamed views kept while the started thing's id is not known yet (the stream may get ahead of the answer). */
const MAX_EARLY_VIEWS = 1000;

/** Tuning of a follow (tests shorten the intervals). */
export interface FollowOptions {
  pollMs?: number;
  liveCheckMs?: number;
  readyWaitMs?: number;
}

/** What is followed, and how (an orchestration run, a rollout). */
export interface FollowedThing<V> {
  /** The stream kind whose messages carry its views. */
  kind: string;
  /** The view a stream message carries, validated; undefined for other messages. */
  fromMessage(msg: StreamMessage): V | undefined;
  idOf(view: V): string;
  /** Creates it (after the stream is up, so none of its messages is missed). */
  start(): Promise<V>;
  fetch(id: string): Promise<V>;
  /** `next` as the new current view when it is later than `current` (stream and polls interleave), else undefined. */
  later(current: V, next: V): V | undefined;
  isOver(view: V): boolean;
  /** Called with the first view and every later one. */
  onView(view: V, prev: V | undefined): void;
  /** Words for the messages: `run` / `okesu orchestrate show ID`. */
  noun: string;
  showCommand(id: string): string;
}

/**
 * Starts something and follows it to its end through the live stream (opened first), polling while the stream is down
 * or refused and checking with a GET now and then while it is up. Resolves with the last view; a stop (SIGINT, abort)
 * ends the command with exit code 1 and leaves the thing going.
 */
export async function followLive<V>(ctx: CliContext, config: ClientConfig, thing: FollowedThing<V>, opts: FollowOptions = {}): Promise<V> {
  const pollMs = opts.pollMs ?? POLL_MS;
  const liveCheckMs = opts.liveCheckMs ?? LIVE_CHECK_MS;
  let live = false;
  let closed = false;
  let lost: string | undefined; // why a live stream went down, reported once
  let lastDetail: string | undefined;
  let followedId: string | undefined;
  const pending: V[] = [];
  let wake: () => void = () => undefined;

  const stream = ctx.openStream(config, {
    kinds: [thing.kind],
    onMessage: (msg) => {
      if (msg.type === 'ready') {
        live = true;
        wake();
        return;
      }
      const view = thing.fromMessage(msg);
      if (view === undefined || (followedId !== undefined && thing.idOf(view) !== followedId)) return;
      if (followedId === undefined && pending.length >= MAX_EARLY_VIEWS) pending.shift();
      pending.push(view);
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
    // Give the stream a moment to come up so the first transitions arrive on it.
    const deadline = Date.now() + (opts.readyWaitMs ?? READY_WAIT_MS);
    while (!live && !closed && !stopped && Date.now() < deadline) await Promise.race([nextWake(deadline - Date.now()), stop]);
    if (stopped) exitWith(1, `interrupted before the ${thing.noun} started; nothing was sent`);
    if (!live) ctx.out.status(`okesu: live stream not available${lastDetail ? ` (${lastDetail})` : ''}; polling every ${pollMs} ms`);

    let current: V = await thing.start();
    const id = thing.idOf(current);
    followedId = id;
    thing.onView(current, undefined);
    const take = (next: V): void => {
      const taken = thing.later(current, next);
      if (taken === undefined) return;
      const prev = current;
      current = taken;
      thing.onView(current, prev);
    };
    let lastCheck = Date.now();
    let outage = false;
    while (!thing.isOver(current)) {
      for (const view of pending.splice(0)) if (thing.idOf(view) === id) take(view);
      if (thing.isOver(current)) break;
      if (!live || Date.now() - lastCheck >= liveCheckMs) {
        if (lost !== undefined && !live) ctx.out.status(`okesu: live stream lost (${lost}); polling every ${pollMs} ms until it is back`);
        lost = undefined;
        lastCheck = Date.now();
        try {
          take(await thing.fetch(id));
          if (outage) ctx.out.status('okesu: reconnected');
          outage = false;
        } catch (err) {
          if (!(err instanceof OkesuError) || err.code !== 'OKS_ERR_CP_UNREACHABLE') throw err;
          if (!outage) ctx.out.status(`okesu: ${err.message}; retrying`);
          outage = true;
        }
        if (thing.isOver(current)) break;
      }
      await Promise.race([nextWake(live ? liveCheckMs : pollMs), stop]);
      if (stopped) {
        ctx.out.status(`okesu: stopped following; the ${thing.noun} goes on (${thing.showCommand(id)})`);
        exitWith(1, `stopped following ${thing.noun} ${id}`);
      }
    }
    return current;
  } finally {
    clearTimeout(timer);
    finished();
    stream.close();
  }
}
