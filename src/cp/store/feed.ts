import type { Db } from './database.js';

/** What a feed entry is about. */
export type FeedKind = 'finding' | 'host' | 'run';

/** One entry of the live stream's durable log. */
export interface FeedEntry {
  id: number;
  ts: number;
  kind: FeedKind;
  payload: string;
}

/** The durable log behind the operator live stream; its ids are resume cursors. */
export function createFeedRepo(db: Db) {
  const insert = db.prepare('INSERT INTO feed (ts, kind, payload) VALUES (?, ?, ?)');
  const after = db.prepare<[number, number], FeedEntry>('SELECT * FROM feed WHERE id > ? ORDER BY id LIMIT ?');
  const head = db.prepare<[], { id: number | null }>('SELECT max(id) AS id FROM feed');
  const oldest = db.prepare<[], { id: number | null }>('SELECT min(id) AS id FROM feed');
  const seqHead = db.prepare<[], { seq: number } | undefined>("SELECT seq FROM sqlite_sequence WHERE name = 'feed'");
  const prune = db.prepare('DELETE FROM feed WHERE ts < ?');
  return {
    /** Appends an entry (call inside the writing transaction); returns its cursor. */
    append(ts: number, kind: FeedKind, payload: unknown): number {
      return Number(insert.run(ts, kind, JSON.stringify(payload)).lastInsertRowid);
    },
    /** Entries with a cursor above `cursor`, oldest first. */
    after(cursor: number, limit: number): FeedEntry[] {
      return after.all(cursor, limit);
    },
    /** The newest cursor handed out (0 before any), even if pruned since. */
    head(): number {
      return seqHead.get()?.seq ?? head.get()?.id ?? 0;
    },
    /** The oldest retained cursor, or undefined when the feed is empty. */
    oldest(): number | undefined {
      return oldest.get()?.id ?? undefined;
    },
    /** Drops entries older than `before` (ms); returns how many. */
    prune(before: number): number {
      return prune.run(before).changes;
    },
  };
}
/** The feed repository. */
export type FeedRepo = ReturnType<typeof createFeedRepo>;
