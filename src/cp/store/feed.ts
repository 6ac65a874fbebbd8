import type { SqlDb } from './sql/sql-db.js';
import { sqliteInsertedId } from './sql/sqlite-db.js';
import type { FeedRepo } from './store-contract.js';
import { FINDING_ROW_COLUMNS, findingFromRow, type FindingRow } from './findings.js';

/** What a feed entry is about. */
export type FeedKind = 'finding' | 'host' | 'run' | 'orchestration_run' | 'triage' | 'rollout';

/** One entry of the live stream's durable log, with its payload (a finding entry resolved to the stored finding, or null if gone). */
export interface FeedEntry {
  id: number;
  ts: number;
  kind: FeedKind;
  payload: unknown;
}

type FeedRow = { feed_id: number; ts: number; kind: FeedKind; payload: string } & { [K in keyof FindingRow]: FindingRow[K] | null };

/** The durable log behind the operator live stream; its ids are resume cursors. */
export function createFeedRepo(db: SqlDb): FeedRepo {
  const insert = db.prepare<[number, FeedKind, string], { id: number }>('INSERT INTO feed (ts, kind, payload) VALUES (?, ?, ?) RETURNING id');
  // Postgres: many entries in one statement, inserted (and numbered by the sequence) in the order given; the writer lock
  // held by the transaction keeps anyone else from taking ids in between.
  const insertBatch = db.dialect === 'postgres'
    ? db.prepare<[{ ts: number; kind: FeedKind; payloads: string[] }], { id: number }>(
        `INSERT INTO feed (ts, kind, payload)
         SELECT CAST(@ts AS BIGINT), CAST(@kind AS TEXT), p FROM unnest(CAST(@payloads AS TEXT[])) WITH ORDINALITY AS t(p, n) ORDER BY n
         RETURNING id`,
      )
    : undefined;
  const insertRefBatch = db.dialect === 'postgres'
    ? db.prepare<[{ ts: number; refs: number[] }], { id: number }>(
        `INSERT INTO feed (ts, kind, ref)
         SELECT CAST(@ts AS BIGINT), 'finding', r FROM unnest(CAST(@refs AS BIGINT[])) WITH ORDINALITY AS t(r, n) ORDER BY n
         RETURNING id`,
      )
    : undefined;
  const insertRef = db.prepare<[number, number], { id: number }>("INSERT INTO feed (ts, kind, ref) VALUES (?, 'finding', ?) RETURNING id");
  // SQLite's per-finding entry: no RETURNING (see sqliteInsertedId).
  const insertRefRow = db.prepare<[number, number]>("INSERT INTO feed (ts, kind, ref) VALUES (?, 'finding', ?)");
  const after = db.prepare<[number, number], FeedRow>(
    `SELECT feed.id AS feed_id, feed.ts AS ts, feed.kind AS kind, feed.payload AS payload, ${FINDING_ROW_COLUMNS}
     FROM feed LEFT JOIN findings f ON f.id = feed.ref LEFT JOIN events e ON e.id = f.event_id
     WHERE feed.id > ? ORDER BY feed.id LIMIT ?`,
  );
  const head = db.prepare<[], { id: number | null }>('SELECT max(id) AS id FROM feed');
  const oldest = db.prepare<[], { id: number | null }>('SELECT min(id) AS id FROM feed');
  // The last id handed out, even if its entry was pruned since: SQLite's AUTOINCREMENT counter, or the Postgres
  // sequence's last value once it has been used (null before, then max(id) answers: 0 on an empty feed).
  const seqHead = db.prepare<[], { seq: number | null }>(
    db.dialect === 'sqlite'
      ? "SELECT seq FROM sqlite_sequence WHERE name = 'feed'"
      : 'SELECT CASE WHEN is_called THEN last_value END AS seq FROM feed_id_seq',
  );
  const prune = db.prepare('DELETE FROM feed WHERE ts < ?');
  // An append outside a caller's transaction still takes one (and on Postgres the writer lock): an id taken outside the
  // lock could commit before a lower one still in flight on another replica, and followers would skip that one.
  const inWriterTransaction = <T>(fn: () => T): T => (db.inTransaction ? fn() : db.transaction(fn)());
  const appendBatch = (ts: number, kind: FeedKind, payloads: readonly unknown[]): number[] => {
    if (!insertBatch) return payloads.map((p) => (insert.get(ts, kind, JSON.stringify(p)) as { id: number }).id);
    const cursors: number[] = [];
    for (let i = 0; i < payloads.length; i += 5000) {
      const chunk = payloads.slice(i, i + 5000).map((p) => JSON.stringify(p));
      // RETURNING's order is not promised: the ids are numbered in insertion order, so sorted they match the input.
      cursors.push(...insertBatch.all({ ts, kind, payloads: chunk }).map((r) => r.id).sort((a, b) => a - b));
    }
    return cursors;
  };
  return {
    /** Appends an entry (call inside the writing transaction); returns its cursor. */
    append(ts: number, kind: FeedKind, payload: unknown): number {
      return inWriterTransaction(() => (insert.get(ts, kind, JSON.stringify(payload)) as { id: number }).id);
    },
    /** Appends many entries of one kind (inside the writing transaction); returns their cursors in the order given. */
    appendMany(ts: number, kind: FeedKind, payloads: readonly unknown[]): number[] {
      return inWriterTransaction(() => appendBatch(ts, kind, payloads));
    },
    /** Appends a finding entry by reference to the stored finding (call inside the writing transaction); returns its cursor. */
    appendFinding(ts: number, findingId: number): number {
      return inWriterTransaction(() => (insertRef.get(ts, findingId) as { id: number }).id);
    },
    /** Appends finding entries by reference (inside the writing transaction); their cursors, in the order given. */
    appendFindings(ts: number, findingIds: readonly number[]): number[] {
      return inWriterTransaction(() => {
        if (!insertRefBatch) return findingIds.map((id) => sqliteInsertedId(insertRefRow.run(ts, id)) as number);
        const cursors: number[] = [];
        for (let i = 0; i < findingIds.length; i += 5000) {
          // Numbered in insertion order under the writer lock: sorted, the ids match the input.
          cursors.push(...insertRefBatch.all({ ts, refs: findingIds.slice(i, i + 5000) }).map((r) => r.id).sort((a, b) => a - b));
        }
        return cursors;
      });
    },
    /** Entries with a cursor above `cursor`, oldest first. */
    after(cursor: number, limit: number): FeedEntry[] {
      // A finding entry whose finding is gone resolves to null (findings are not deleted today).
      return after.all(cursor, limit).map((r) => ({
        id: r.feed_id, ts: r.ts, kind: r.kind,
        payload: r.kind !== 'finding' ? JSON.parse(r.payload) : r.event === null ? null : findingFromRow(r as FindingRow),
      }));
    },
    /** The newest cursor handed out (0 before any), even if pruned since. */
    head(): number {
      // On Postgres the sequence moves when another replica's transaction takes an id, before it commits: the newest
      // committed entry is the head, so a stream client's `ready` cursor never passes an entry it has yet to see.
      if (db.dialect === 'postgres') return head.get()?.id ?? seqHead.get()?.seq ?? 0;
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
export type { FeedRepo };
