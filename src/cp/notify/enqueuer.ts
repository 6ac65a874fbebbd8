import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import { applyLabelOverrides } from '../store/hosts.js';
import type { OutboxRow } from '../store/notify.js';
import type { StoredFinding } from '../../protocol/finding.js';
import { notifyRulesSchema, type NotifyRules } from '../../protocol/notify-api.js';
import { matchesRules, quietUntil } from './rules.js';

/** The meta key holding the feed cursor the enqueuer has handled up to. */
export const NOTIFY_CURSOR_KEY = 'notify.cursor';
/** A digest carries at most this many findings (the first of each new group); `total` counts the rest. */
export const DIGEST_MAX_FINDINGS = 50;

/** Follows the committed feed and turns new findings into outbox rows; a leader duty. */
export interface NotifyEnqueuer {
  start(): void;
  stop(): void;
  /** New feed entries were committed: look now rather than at the next poll. */
  nudge(): void;
  /** One pass over what the feed holds past the cursor (tests, and the timer); how many entries it handled. */
  runOnce(): number;
}

/** What the enqueuer needs. */
export interface NotifyEnqueuerDeps {
  store: Store;
  log: Logger;
  now: () => number;
  /** How often the feed is looked at without a nudge (default 1 s). */
  pollMs?: number;
  /** Feed entries per transaction (default 500). */
  batch?: number;
  /** Outbox rows were committed (the delivery worker looks now). */
  onEnqueued?: () => void;
}

/** Ingest nudges once per committed batch, hundreds of times a second under load: at most one pass per this many ms. */
const NUDGE_MS = 50;

/** A fresh delivery id (also the receiver's dedupe key: `X-Okesu-Delivery`). */
export function newDeliveryId(): string {
  return `dl_${randomBytes(10).toString('hex')}`;
}

/**
 * Never in the ingest path: it reads what ingest committed to the feed, by its own cursor (`notify.cursor`), and writes
 * the outbox rows with the cursor's advance in one transaction, so a restart neither loses nor repeats an enqueue. The
 * first start begins at the feed's head: findings from before alerting existed are not sent.
 */
export function createNotifyEnqueuer(deps: NotifyEnqueuerDeps): NotifyEnqueuer {
  const { store, log, now } = deps;
  const pollMs = deps.pollMs ?? 1000;
  const batch = deps.batch ?? 500;
  let timer: NodeJS.Timeout | undefined;
  let nudged: NodeJS.Timeout | undefined;
  let running = false;
  let planned = 0;

  const pass = (): number => {
    planned = 0;
    const handled = passOnce();
    if (planned > 0) deps.onEnqueued?.();
    return handled;
  };

  const passOnce = (): number => {
    // Nothing new: no write transaction (on PostgreSQL it would take the cluster's writer lock every poll).
    const peek = store.meta.get(NOTIFY_CURSOR_KEY);
    if (peek !== undefined && store.feed.head() <= Number(peek)) return 0;
    // No channel: nothing to enqueue and no write. Under ingest a write here, every nudge, would wait on SQLite for
    // the ingest thread's commit in flight (the CP's main connection settles it before writing). The cursor stays;
    // adding the first channel moves it to the head in the same transaction (notifier.addChannel).
    if (peek !== undefined && store.notify.listChannels().length === 0) return 0;
    return store.transaction(() => {
      const stored = store.meta.get(NOTIFY_CURSOR_KEY);
      if (stored === undefined) {
        store.meta.set(NOTIFY_CURSOR_KEY, String(store.feed.head()));
        return 0;
      }
      const channels = store.notify.listChannels().map((c) => ({ name: c.name, rules: notifyRulesSchema.parse(JSON.parse(c.rules)) }));
      // No channel: nothing to match, so the cursor moves to the head without reading the entries.
      if (channels.length === 0) {
        const head = store.feed.head();
        if (head > Number(stored)) store.meta.set(NOTIFY_CURSOR_KEY, String(head));
        return 0;
      }
      const entries = store.feed.after(Number(stored), batch);
      if (entries.length === 0) return 0;
      const labels = new Map<string, Record<string, string>>();
      const labelsOf = (host: string): Record<string, string> => {
        let l = labels.get(host);
        if (!l) {
          const row = store.hosts.get(host);
          l = row ? applyLabelOverrides(row.labels, store.hosts.labelOverrides(host)) : {};
          labels.set(host, l);
        }
        return l;
      };
      const at = now();
      for (const e of entries) {
        if (e.kind !== 'finding' || e.payload === null) continue;
        const finding = e.payload as StoredFinding;
        for (const ch of channels) {
          if (!matchesRules(ch.rules, finding, labelsOf(finding.host))) continue;
          // One message per new fingerprint group per channel: a repeat of a group it was told of goes nowhere.
          if (!store.notify.markSeen(ch.name, finding.fingerprint, at)) continue;
          plan(ch.name, ch.rules, finding, at);
        }
      }
      store.meta.set(NOTIFY_CURSOR_KEY, String((entries[entries.length - 1] as { id: number }).id));
      return entries.length;
    });
  };

  /** A new group for `channel`: a message of its own now, or a place in a digest (a burst, a quiet period). */
  const plan = (channel: string, rules: NotifyRules, finding: StoredFinding, at: number): void => {
    const quietEnd = quietUntil(rules.quiet, at);
    const burst = store.notify.seenSince(channel, at - rules.digest.window_ms) > rules.digest.max_groups;
    planned++;
    if (quietEnd === undefined && !burst) {
      store.notify.enqueue(row(channel, 'finding', 'pending', [finding], 1, at, at));
      return;
    }
    const open = store.notify.openDigest(channel, at);
    if (open) {
      const findings = JSON.parse(open.findings) as StoredFinding[];
      if (findings.length < DIGEST_MAX_FINDINGS) findings.push(finding);
      store.notify.setDigest(open.id, JSON.stringify(findings), open.total + 1, at);
    } else {
      store.notify.enqueue(row(channel, 'digest', 'held', [finding], 1, at, quietEnd ?? at + rules.digest.window_ms));
    }
  };

  const tick = (): void => {
    timer = undefined;
    if (!running) return;
    let more = false;
    try {
      more = pass() === batch;
    } catch (err) {
      if (!store.health.failed(err, 'notify enqueue')) log.error({ err }, 'notify enqueue failed');
    }
    if (running) timer = setTimeout(tick, more ? 0 : pollMs);
  };

  return {
    start() {
      running = true;
      if (!timer) timer = setTimeout(tick, 0);
    },
    stop() {
      running = false;
      clearTimeout(timer);
      clearTimeout(nudged);
      timer = undefined;
      nudged = undefined;
    },
    nudge() {
      if (!running || nudged) return;
      nudged = setTimeout(() => {
        nudged = undefined;
        if (!running) return;
        clearTimeout(timer);
        tick();
      }, NUDGE_MS);
    },
    runOnce: pass,
  };
}

function row(channel: string, kind: OutboxRow['kind'], state: OutboxRow['state'], findings: StoredFinding[], total: number, at: number, due: number): OutboxRow {
  return { id: newDeliveryId(), channel, kind, state, findings: JSON.stringify(findings), total, created_at: at, due_at: due, attempts: 0, updated_at: at };
}
