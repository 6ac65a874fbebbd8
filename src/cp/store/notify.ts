import type { SqlDb } from './sql/sql-db.js';
import type { NotifyRepo } from './store-contract.js';
import type { ChannelKind, DeliveryAttempt, DeliveryCounts, DeliveryState } from '../../protocol/notify-api.js';

/** A channel as stored: its non-secret settings (`config`, JSON) apart from its secrets (`sealed`, AES-256-GCM). */
export interface NotifyChannelRow {
  name: string;
  kind: ChannelKind;
  /** JSON of the target without its secrets. */
  config: string;
  /** The target's secrets, sealed (src/cp/notify/channel-secrets.ts). */
  sealed: string;
  /** JSON of the channel's NotifyRules. */
  rules: string;
  created_at: number;
  created_by: string;
}

/** What an outbox row delivers. */
export type OutboxKind = 'finding' | 'digest' | 'test';

/** One delivery: an outbox row. `findings` is the JSON of the StoredFindings it carries (at most 50). */
export interface OutboxRow {
  id: string;
  channel: string;
  kind: OutboxKind;
  state: DeliveryState;
  findings: string;
  total: number;
  created_at: number;
  due_at: number;
  attempts: number;
  updated_at: number;
}

/** One line of the delivery log. */
export interface AttemptRow extends DeliveryAttempt {
  delivery_id: string;
  channel: string;
}

/** Notification channels, the outbox, the delivery log and each channel's notified fingerprint groups. */
export function createNotifyRepo(db: SqlDb): NotifyRepo {
  const insertChannel = db.prepare(
    `INSERT INTO notify_channels (name, kind, config, sealed, rules, created_at, created_by)
     VALUES (@name, @kind, @config, @sealed, @rules, @created_at, @created_by) ON CONFLICT (name) DO NOTHING`,
  );
  const getChannel = db.prepare<[string], NotifyChannelRow>('SELECT * FROM notify_channels WHERE name = ?');
  const listChannels = db.prepare<[], NotifyChannelRow>('SELECT * FROM notify_channels ORDER BY name');
  const removeChannel = db.prepare('DELETE FROM notify_channels WHERE name = ?');
  const removeAttempts = db.prepare('DELETE FROM notify_attempts WHERE channel = ?');
  // Outbox and seen rows go with the channel (ON DELETE CASCADE); SQLite needs them deleted when foreign keys are off.
  const removeOutbox = db.prepare('DELETE FROM notify_outbox WHERE channel = ?');
  const removeSeen = db.prepare('DELETE FROM notify_seen WHERE channel = ?');
  const markSeen = db.prepare('INSERT INTO notify_seen (channel, fingerprint, first_at) VALUES (?, ?, ?) ON CONFLICT (channel, fingerprint) DO NOTHING');
  const seenSince = db.prepare<[string, number], { n: number }>('SELECT count(*) AS n FROM notify_seen WHERE channel = ? AND first_at > ?');
  const insertOutbox = db.prepare(
    `INSERT INTO notify_outbox (id, channel, kind, state, findings, total, created_at, due_at, attempts, updated_at)
     VALUES (@id, @channel, @kind, @state, @findings, @total, @created_at, @due_at, @attempts, @updated_at)`,
  );
  const openDigest = db.prepare<[string, number], OutboxRow>(
    "SELECT * FROM notify_outbox WHERE channel = ? AND state = 'held' AND due_at > ? ORDER BY due_at LIMIT 1",
  );
  const setDigest = db.prepare('UPDATE notify_outbox SET findings = ?, total = ?, updated_at = ? WHERE id = ?');
  const due = db.prepare<[number, number], OutboxRow>(
    "SELECT * FROM notify_outbox WHERE state IN ('held', 'pending') AND due_at <= ? ORDER BY due_at, id LIMIT ?",
  );
  const getOutbox = db.prepare<[string], OutboxRow>('SELECT * FROM notify_outbox WHERE id = ?');
  const update = db.prepare('UPDATE notify_outbox SET state = ?, attempts = ?, due_at = ?, updated_at = ? WHERE id = ? AND attempts = ?');
  const claim = db.prepare(
    "UPDATE notify_outbox SET state = 'pending', due_at = ?, updated_at = ? WHERE id = ? AND attempts = ? AND state IN ('held', 'pending') AND due_at <= ?",
  );
  const reschedule = db.prepare('UPDATE notify_outbox SET due_at = ?, updated_at = ? WHERE id = ?');
  const insertAttempt = db.prepare(
    'INSERT INTO notify_attempts (delivery_id, channel, attempt, at, outcome, detail) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (delivery_id, attempt) DO NOTHING',
  );
  const pruneAttempts = db.prepare(
    "DELETE FROM notify_attempts WHERE delivery_id IN (SELECT id FROM notify_outbox WHERE state IN ('delivered', 'failed') AND updated_at < ?)",
  );
  const pruneOutbox = db.prepare("DELETE FROM notify_outbox WHERE state IN ('delivered', 'failed') AND updated_at < ?");
  const recentAll = db.prepare<[number], OutboxRow>('SELECT * FROM notify_outbox ORDER BY created_at DESC, id DESC LIMIT ?');
  const recentOf = db.prepare<[string, number], OutboxRow>('SELECT * FROM notify_outbox WHERE channel = ? ORDER BY created_at DESC, id DESC LIMIT ?');
  const attemptsOf = db.prepare<[string], AttemptRow>('SELECT * FROM notify_attempts WHERE delivery_id = ? ORDER BY attempt');
  const countsAll = db.prepare<[], { state: DeliveryState; n: number }>('SELECT state, count(*) AS n FROM notify_outbox GROUP BY state');
  const countsOf = db.prepare<[string], { state: DeliveryState; n: number }>('SELECT state, count(*) AS n FROM notify_outbox WHERE channel = ? GROUP BY state');
  const toCounts = (rows: { state: DeliveryState; n: number }[]): DeliveryCounts => {
    const c = { pending: 0, delivered: 0, failed: 0 };
    for (const r of rows) {
      if (r.state === 'delivered') c.delivered += Number(r.n);
      else if (r.state === 'failed') c.failed += Number(r.n);
      else c.pending += Number(r.n);
    }
    return c;
  };
  return {
    addChannel: (row) => insertChannel.run(row).changes > 0,
    getChannel: (name) => getChannel.get(name),
    listChannels: () => listChannels.all(),
    removeChannel(name) {
      removeOutbox.run(name);
      removeSeen.run(name);
      removeAttempts.run(name);
      return removeChannel.run(name).changes > 0;
    },
    markSeen: (channel, fingerprint, at) => markSeen.run(channel, fingerprint, at).changes > 0,
    seenSince: (channel, since) => Number(seenSince.get(channel, since)?.n ?? 0),
    enqueue: (row) => void insertOutbox.run(row),
    openDigest: (channel, now) => openDigest.get(channel, now),
    setDigest: (id, findings, total, at) => void setDigest.run(findings, total, at, id),
    due: (now, limit) => due.all(now, limit),
    get: (id) => getOutbox.get(id),
    claim: (id, attempts, now, until) => claim.run(until, now, id, attempts, now).changes > 0,
    settle(id, change, attempt) {
      if (update.run(change.state, change.attempts, change.due_at, change.updated_at, id, change.attempts - 1).changes === 0) return false;
      insertAttempt.run(attempt.delivery_id, attempt.channel, attempt.attempt, attempt.at, attempt.outcome, attempt.detail);
      return true;
    },
    reschedule: (id, dueAt, at) => void reschedule.run(dueAt, at, id),
    recent: (opts) => (opts.channel === undefined ? recentAll.all(opts.limit) : recentOf.all(opts.channel, opts.limit)),
    attempts: (deliveryId) => attemptsOf.all(deliveryId),
    prune(before) {
      pruneAttempts.run(before);
      return pruneOutbox.run(before).changes;
    },
    counts: (channel) => toCounts(channel === undefined ? countsAll.all() : countsOf.all(channel)),
  };
}
export type { NotifyRepo };
