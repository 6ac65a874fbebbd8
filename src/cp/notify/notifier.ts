import type { Logger } from 'pino';
import type { ClusterKey } from '../cluster/cluster-key.js';
import type { LeaderDuty } from '../leader-duties.js';
import type { Store } from '../store/store.js';
import type { NotifyChannelRow, OutboxRow } from '../store/notify.js';
import { OkesuError } from '../../errors.js';
import type { StoredFinding } from '../../protocol/finding.js';
import {
  notifyRulesSchema, type ChannelTestResult, type ChannelView, type CreateChannelRequest, type DeliveryCounts, type DeliveryView,
} from '../../protocol/notify-api.js';
import { DeliveryError, type ChannelSender, type ChannelTarget } from './channel-sender.js';
import { sealSecrets, splitTarget, targetOf, targetView } from './channel-secrets.js';
import { emailTargetProblem } from './email-sender.js';
import { slackWebhookUrlProblem } from './slack-sender.js';
import { attemptDelivery, createDeliveryWorker, type DeliveryWorkerDeps, type RetryPolicy } from './delivery-worker.js';
import { createNotifyEnqueuer, newDeliveryId, NOTIFY_CURSOR_KEY } from './enqueuer.js';

/** Alert delivery at the CP: channels, the outbox's two duties, the delivery log, and counts for `/metrics`. */
export interface Notifier {
  /** The enqueuer and the delivery worker: run on the leader. */
  readonly duties: readonly LeaderDuty[];
  /** New findings were committed (the feed follower): the enqueuer looks now. */
  onFindings(): void;
  addChannel(req: CreateChannelRequest, by: string): ChannelView;
  /** False when there was no such channel. */
  removeChannel(name: string): boolean;
  listChannels(): ChannelView[];
  /** Sends a test message through the channel now (not through the outbox) and logs it as a `test` delivery. */
  test(name: string): Promise<ChannelTestResult>;
  /** The newest deliveries with their attempts, of one channel or of all. */
  deliveries(opts: { channel?: string; limit: number }): DeliveryView[];
  /** Deliveries by state across channels (okesu_notify_outbox_pending, okesu_notify_deliveries_total). */
  stats(): DeliveryCounts;
}

/** What the notifier needs. */
export interface NotifierDeps {
  store: Store;
  /** Seals channel secrets (src/cp/notify/notify-key.ts). */
  key: ClusterKey;
  /** One per kind; a kind without one keeps its deliveries pending (retried) until one is added. */
  senders: readonly ChannelSender[];
  log: Logger;
  now: () => number;
  cpUrl: () => string | undefined;
  /** Timing for tests: polls, the send timeout, the retry policy, concurrency. */
  timing?: { pollMs?: number; timeoutMs?: number; concurrency?: number; retry?: Partial<RetryPolicy> };
  /** Told of each delivery attempt's outcome, for `/metrics`. */
  onAttempt?: DeliveryWorkerDeps['onAttempt'];
}

/** Builds the notifier; its duties start on the leader (cp-server.ts). */
export function createNotifier(deps: NotifierDeps): Notifier {
  const { store, key, now } = deps;
  const timing = deps.timing ?? {};
  const timeoutMs = timing.timeoutMs ?? 10_000;
  const log = deps.log.child({ component: 'notify' });
  const worker = createDeliveryWorker({
    store, senders: deps.senders, key, log, now, cpUrl: deps.cpUrl, timeoutMs,
    ...(timing.pollMs !== undefined && { pollMs: timing.pollMs }),
    ...(timing.concurrency !== undefined && { concurrency: timing.concurrency }),
    ...(timing.retry && { retry: timing.retry }),
    ...(deps.onAttempt && { onAttempt: deps.onAttempt }),
  });
  const enqueuer = createNotifyEnqueuer({ store, log, now, onEnqueued: () => worker.nudge(), ...(timing.pollMs !== undefined && { pollMs: timing.pollMs }) });

  const view = (c: NotifyChannelRow): ChannelView => ({
    name: c.name, kind: c.kind, target: targetView(JSON.parse(c.config) as Record<string, unknown>),
    rules: notifyRulesSchema.parse(JSON.parse(c.rules)), created_at: c.created_at, created_by: c.created_by, counts: store.notify.counts(c.name),
  });
  const deliveryView = (r: OutboxRow): DeliveryView => ({
    id: r.id, channel: r.channel, kind: r.kind, state: r.state, total: r.total, created_at: r.created_at, due_at: r.due_at,
    finding_ids: (JSON.parse(r.findings) as StoredFinding[]).map((f) => f.id),
    attempts: store.notify.attempts(r.id).map((a) => ({ attempt: a.attempt, at: a.at, outcome: a.outcome, detail: a.detail })),
  });

  return {
    duties: [
      { name: 'notify enqueuer', start: () => enqueuer.start(), stop: () => enqueuer.stop() },
      { name: 'notify delivery', start: () => worker.start(), stop: () => worker.stop() },
    ],
    // The enqueuer looks soon (nudges coalesced), and tells the worker when it committed outbox rows.
    onFindings: () => enqueuer.nudge(),
    addChannel(req, by) {
      const { config, secrets } = splitTarget(req);
      // What the kind's sender would refuse at every attempt is refused now (an http:// Slack URL off loopback, no recipient…).
      const problem = targetProblem(targetOf(req.kind, config, secrets));
      if (problem) throw new OkesuError('OKS_ERR_BAD_REQUEST', `channel ${req.name}: ${problem}`);
      const row: NotifyChannelRow = {
        name: req.name, kind: req.kind, config: JSON.stringify(config), sealed: sealSecrets(key, req.name, secrets),
        rules: JSON.stringify(req.rules), created_at: now(), created_by: by,
      };
      const added = store.transaction(() => {
        const first = store.notify.listChannels().length === 0;
        if (!store.notify.addChannel(row)) return false;
        // With no channel the enqueuer leaves its cursor where it was: the first channel starts from now, not from
        // every finding since the last channel went.
        if (first) store.meta.set(NOTIFY_CURSOR_KEY, String(store.feed.head()));
        return true;
      });
      if (!added) {
        throw new OkesuError('OKS_ERR_BAD_REQUEST', `a channel named ${req.name} exists; remove it first (okesu notify rm ${req.name})`);
      }
      return view(row);
    },
    removeChannel: (name) => store.notify.removeChannel(name),
    listChannels: () => store.notify.listChannels().map(view),
    async test(name) {
      const channel = store.notify.getChannel(name);
      if (!channel) throw new OkesuError('OKS_ERR_NOT_FOUND', `no notification channel ${name}`);
      const at = now();
      const row: OutboxRow = {
        id: newDeliveryId(), channel: name, kind: 'test', state: 'pending', findings: JSON.stringify([testFinding(at)]), total: 1,
        created_at: at, due_at: at, attempts: 0, updated_at: at,
      };
      let ok = true;
      let detail: string;
      let retryable = false;
      try {
        detail = await attemptDelivery(row, channel, { senders: deps.senders, key, cpUrl: deps.cpUrl, timeoutMs });
      } catch (err) {
        ok = false;
        detail = err instanceof Error ? err.message : String(err);
        retryable = !(err instanceof DeliveryError) || err.retryable;
      }
      const end = now();
      // Logged like any delivery, unless the channel was removed meanwhile.
      store.transaction(() => {
        if (!store.notify.getChannel(name)) return;
        store.notify.enqueue({ ...row, state: ok ? 'delivered' : 'failed', updated_at: end });
        store.notify.settle(row.id, { state: ok ? 'delivered' : 'failed', attempts: 1, due_at: at, updated_at: end }, {
          delivery_id: row.id, channel: name, attempt: 1, at: end, outcome: ok ? 'delivered' : 'failed', detail: detail.slice(0, 1000),
        });
      });
      return { channel: name, delivery_id: row.id, ok, detail, retryable, ms: end - at };
    },
    deliveries: (opts) => store.notify.recent(opts).map(deliveryView),
    stats: () => store.notify.counts(),
  };
}

/** The finding a test message carries: plainly a test, id 0. */
function testFinding(at: number): StoredFinding {
  return {
    id: 0, fingerprint: 'test', host: 'okesu-test', agent: 'okesu', agent_version: '0', run_id: 'test', seq: 0, ts: at, received_at: at,
    status: 'open', severity: 'INFO', title: 'okesu test notification', category: 'other', resource: '', evidence: [],
    dedup_key: '', tags: ['test'], attributes: {}, indicators: [],
  };
}

/** Why a target cannot work, before anything is stored (the webhook's URL and secret are checked by its schema). */
function targetProblem(target: ChannelTarget): string | undefined {
  if (target.kind === 'slack') return slackWebhookUrlProblem(target.webhookUrl);
  if (target.kind === 'email') return emailTargetProblem(target);
  return undefined;
}
