import type { Logger } from 'pino';
import type { CpBus, FeedMessageEntry } from '../bus/cp-bus.js';
import type { FeedRepo } from '../store/feed.js';

/** Follows the feed topic of the CP's bus and hands committed entries, in cursor order, to this replica's parts. */
export interface FeedFollower {
  /** The highest cursor handed on (cluster mode; 0 on a single CP, which does not track it). */
  delivered(): number;
  stop(): void;
}

/** How often a replica checks the store for entries whose publication it never heard (a replica killed after a commit). */
const CATCH_UP_MS = 1000;
/** Entries read from the store per page when filling a gap. */
const FILL_PAGE = 1000;

/**
 * On a single CP every entry was published by this process, right after its commit: they are handed on as they come
 * (the live stream sorts what one turn publishes). On a cluster, entries from other replicas arrive in any order, and a
 * replica may die between its commit and its publication. Write transactions are serialised across replicas (the
 * store's writer lock), so a committed cursor N means every cursor below N is committed too: a gap before an entry is
 * filled by reading the store from the last cursor handed on, and a timer catches up with entries never announced.
 */
export function createFeedFollower(deps: {
  bus: Pick<CpBus, 'subscribe'>;
  feed: Pick<FeedRepo, 'after' | 'head'>;
  cluster: boolean;
  deliver: (entries: readonly FeedMessageEntry[]) => void;
  log: Logger;
}): FeedFollower {
  if (!deps.cluster) {
    const unsubscribe = deps.bus.subscribe('feed', (message) => deps.deliver(message.entries));
    return { delivered: () => 0, stop: unsubscribe };
  }
  let delivered = deps.feed.head();
  let pending: FeedMessageEntry[] = [];
  let scheduled = false;

  /** Reads committed entries above `delivered` up to `upTo` (or all, when undefined) and hands them on. */
  const fill = (upTo?: number): void => {
    for (;;) {
      const page = deps.feed.after(delivered, FILL_PAGE);
      const wanted = upTo === undefined ? page : page.filter((e) => e.id <= upTo);
      const entries = wanted.filter((e) => e.payload !== null).map((e) => ({ cursor: e.id, kind: e.kind, payload: e.payload }));
      if (wanted.length > 0) delivered = (wanted[wanted.length - 1] as { id: number }).id;
      if (entries.length > 0) deps.deliver(entries);
      if (page.length < FILL_PAGE || wanted.length < page.length) break;
    }
    // Never past what the store returned: a cursor nobody committed (a message from a broken or hostile peer) must not
    // make this replica skip the entries below it.
  };

  const drain = (): void => {
    scheduled = false;
    const batch = pending.sort((a, b) => a.cursor - b.cursor).filter((e) => e.cursor > delivered);
    pending = [];
    if (batch.length === 0) return;
    const contiguous = batch.every((e, i) => e.cursor === delivered + 1 + i);
    try {
      if (contiguous) {
        delivered = (batch[batch.length - 1] as FeedMessageEntry).cursor;
        deps.deliver(batch);
      } else fill((batch[batch.length - 1] as FeedMessageEntry).cursor);
    } catch (err) {
      // The store refused the read: the catch-up timer tries again; nothing was handed on past `delivered`.
      deps.log.warn({ err }, 'feed follower could not fill a gap from the store');
    }
  };

  const unsubscribe = deps.bus.subscribe('feed', (message) => {
    pending.push(...message.entries);
    if (!scheduled) {
      scheduled = true;
      // A turn's publications are sorted together: one commit settles host by host, in any order.
      setImmediate(drain);
    }
  });
  const timer = setInterval(() => {
    try {
      if (deps.feed.head() > delivered) fill();
    } catch (err) {
      deps.log.warn({ err }, 'feed follower catch-up failed');
    }
  }, CATCH_UP_MS);
  timer.unref();
  return {
    delivered: () => delivered,
    stop() {
      clearInterval(timer);
      unsubscribe();
    },
  };
}
