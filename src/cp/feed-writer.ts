import type { FeedKind, FeedRepo } from './store/feed.js';
import type { CpBus, FeedMessageEntry } from './bus/cp-bus.js';

/**
 * The one way entries reach the feed and, after their commit, everyone who follows it: this replica's live stream,
 * run waiters, the orchestration engine and the finding triggers — and on a cluster every other replica's (through
 * the bus). Appends happen inside the caller's transaction; `publish` is called once it has committed, so no one
 * hears of an entry a rollback undid.
 */
export interface FeedWriter {
  /** Appends an entry (inside the writing transaction) and returns it as it will be published. */
  append(ts: number, kind: Exclude<FeedKind, 'finding'>, payload: unknown): FeedMessageEntry;
  /** Publishes committed entries, in cursor order. */
  publish(entries: readonly FeedMessageEntry[]): void;
}

/** Entries per bus message (a replica that misses one fills the gap from the store). */
const MAX_ENTRIES_PER_MESSAGE = 64;

/** A feed writer over the store's feed and the CP's bus. */
export function createFeedWriter(deps: { feed: Pick<FeedRepo, 'append'>; bus: Pick<CpBus, 'publish'> }): FeedWriter {
  return {
    append: (ts, kind, payload) => ({ cursor: deps.feed.append(ts, kind, payload), kind, payload }),
    publish(entries) {
      if (entries.length === 0) return;
      const sorted = entries.length === 1 ? [...entries] : [...entries].sort((a, b) => a.cursor - b.cursor);
      // A NATS message is capped (1 MB by default) and a finding may be tens of KB: large commits go in several.
      for (let i = 0; i < sorted.length; i += MAX_ENTRIES_PER_MESSAGE) deps.bus.publish('feed', { entries: sorted.slice(i, i + MAX_ENTRIES_PER_MESSAGE) });
    },
  };
}
