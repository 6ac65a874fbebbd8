import type { Logger } from 'pino';
import type { ClusterKey } from '../cluster/cluster-key.js';
import type { Store } from '../store/store.js';
import type { NotifyChannelRow, OutboxRow } from '../store/notify.js';
import type { StoredFinding } from '../../protocol/finding.js';
import { notifyRulesSchema, type ChannelKind, type DeliveryAttempt } from '../../protocol/notify-api.js';
import { DeliveryError, type ChannelSender, type NotificationMessage } from './channel-sender.js';
import { openSecrets, targetOf } from './channel-secrets.js';
import { quietUntil } from './rules.js';

/** Retry timing: exponential from `baseMs` (with jitter) up to `maxMs`, given up after `maxAttempts` or `maxAgeMs`. */
export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
  maxAttempts: number;
  maxAgeMs: number;
}

/** The default: 10 s, 20 s, 40 s … capped at 1 h, for at most 24 h or 30 attempts. */
export const DEFAULT_RETRY: RetryPolicy = { baseMs: 10_000, maxMs: 3_600_000, maxAttempts: 30, maxAgeMs: 86_400_000 };

/**
 * A row taken for an attempt is not due again before the attempt's timeout plus this margin: on a cluster, a new
 * leader does not send a delivery the old one is still sending; after a crash mid-attempt it is retried then.
 */
export const CLAIM_MARGIN_MS = 5_000;

/** How long delivered and failed deliveries stay in the log: 30 days. */
export const LOG_RETENTION_MS = 30 * 86_400_000;

/** Sends what the outbox holds when it is due; a leader duty. */
export interface DeliveryWorker {
  start(): void;
  /** Stops taking rows and waits for the attempts under way (each bounded by the send timeout). */
  stop(): Promise<void>;
  /** Looks at the outbox now (a row was just enqueued). */
  nudge(): void;
}

/** What the worker needs. */
export interface DeliveryWorkerDeps {
  store: Store;
  senders: readonly ChannelSender[];
  key: ClusterKey;
  log: Logger;
  now: () => number;
  /** The CP's advertised URL, for links back. */
  cpUrl: () => string | undefined;
  /** How often the outbox is looked at (default 1 s). */
  pollMs?: number;
  /** Attempts under way at once across channels (default 8); one channel never has more than one. */
  concurrency?: number;
  /** One attempt's limit (default 10 s). */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** In [0, 1): the jitter (default Math.random). */
  random?: () => number;
  /** Told of each attempt's outcome (`okesu_notify_deliveries_total{kind,result}`). */
  onAttempt?: (kind: ChannelKind, result: DeliveryAttempt['outcome']) => void;
}

/** The delay before retry number `attempt` (1 = the first retry): exponential, capped, with jitter in [50 %, 100 %]. */
export function retryDelay(policy: RetryPolicy, attempt: number, random: () => number): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(exp * (0.5 + random() * 0.5));
}

/** The message a row stands for. */
export function messageOf(row: OutboxRow, cpUrl: string | undefined): NotificationMessage {
  return {
    kind: row.kind === 'digest' ? 'digest' : 'finding',
    channel: row.channel,
    findings: JSON.parse(row.findings) as StoredFinding[],
    total: row.total,
    ...(cpUrl !== undefined && cpUrl !== '' && { cpUrl }),
    deliveryId: row.id,
    createdAt: row.created_at,
  };
}

/** One attempt at `row` through `channel`'s sender: a receipt, or a DeliveryError saying whether to retry. */
export async function attemptDelivery(
  row: OutboxRow, channel: NotifyChannelRow, deps: Pick<DeliveryWorkerDeps, 'senders' | 'key' | 'cpUrl'> & { timeoutMs: number },
): Promise<string> {
  const sender = deps.senders.find((s) => s.kind === channel.kind);
  // A build without this kind's sender: retried, so an upgrade that brings it still delivers.
  if (!sender) throw new DeliveryError(`this CP has no ${channel.kind} sender`, true);
  let secrets: Record<string, string>;
  try {
    secrets = openSecrets(deps.key, channel.name, channel.sealed);
  } catch {
    throw new DeliveryError(`cannot open the channel's secrets (another key sealed them: add the channel again)`, false);
  }
  const target = targetOf(channel.kind, JSON.parse(channel.config) as Record<string, unknown>, secrets);
  return sender.send(target, messageOf(row, deps.cpUrl()), { timeoutMs: deps.timeoutMs });
}

/**
 * The outbox's sender. Due rows are taken earliest first, at most one per channel at a time and `concurrency` in all,
 * so a slow or dead endpoint holds one slot, never the others. Each attempt is logged with the row's new state in one
 * transaction. A row is claimed in the store before its attempt (not due again until the attempt's timeout has
 * passed), so two replicas that both believe they lead never send it at once. A row whose attempt was under way when
 * the CP died is sent again once that claim runs out (at least once: receivers dedupe on the delivery id).
 */
export function createDeliveryWorker(deps: DeliveryWorkerDeps): DeliveryWorker {
  const { store, log, now } = deps;
  const pollMs = deps.pollMs ?? 1000;
  const concurrency = deps.concurrency ?? 8;
  const timeoutMs = deps.timeoutMs ?? 10_000;
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...deps.retry };
  const random = deps.random ?? Math.random;
  const busy = new Set<string>();
  const inFlight = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  let pruner: NodeJS.Timeout | undefined;
  let running = false;

  const settle = (row: OutboxRow, kind: ChannelKind, outcome: DeliveryAttempt['outcome'], detail: string): void => {
    const at = now();
    const attempts = row.attempts + 1;
    let state: OutboxRow['state'] = outcome === 'delivered' ? 'delivered' : 'failed';
    let due = row.due_at;
    if (outcome === 'retry') {
      const next = at + retryDelay(policy, attempts, random);
      // Given up: the attempts or the age are spent.
      if (attempts >= policy.maxAttempts || next - row.created_at > policy.maxAgeMs) outcome = 'failed';
      else {
        state = 'pending';
        due = next;
      }
    }
    const settled = store.transaction(() => store.notify.settle(row.id, { state, attempts, due_at: due, updated_at: at }, {
      delivery_id: row.id, channel: row.channel, attempt: attempts, at, outcome, detail: detail.slice(0, 1000),
    }));
    const l = log.child({ channel: row.channel, delivery: row.id, attempt: attempts });
    // This replica stalled past its claim and another one's attempt was recorded first: its outcome stands.
    if (!settled) {
      l.warn({ outcome, detail }, 'notification attempt outcome dropped: another replica recorded this attempt first');
      return;
    }
    deps.onAttempt?.(kind, outcome);
    if (outcome === 'failed') l.warn({ detail }, 'notification failed');
    else if (outcome === 'retry') l.info({ detail, retry_at: due }, 'notification attempt failed; retrying');
  };

  const deliver = async (row: OutboxRow, channel: NotifyChannelRow): Promise<void> => {
    try {
      const receipt = await attemptDelivery(row, channel, { ...deps, timeoutMs });
      settle(row, channel.kind, 'delivered', receipt);
    } catch (err) {
      const retryable = !(err instanceof DeliveryError) || err.retryable;
      settle(row, channel.kind, retryable ? 'retry' : 'failed', err instanceof Error ? err.message : String(err));
    }
  };

  const tick = (): void => {
    timer = undefined;
    if (!running) return;
    try {
      if (busy.size < concurrency) {
        const at = now();
        for (const row of store.notify.due(at, 200)) {
          if (busy.size >= concurrency) break;
          if (busy.has(row.channel)) continue;
          const channel = store.notify.getChannel(row.channel);
          if (!channel) continue;
          // A quiet period that began after the row was planned (or a retry that falls in one): held to its end.
          const quietEnd = row.kind === 'test' ? undefined : quietUntil(notifyRulesSchema.parse(JSON.parse(channel.rules)).quiet, at);
          if (quietEnd !== undefined) {
            store.notify.reschedule(row.id, quietEnd, at);
            continue;
          }
          // Taken in the store first: on a cluster, an old leader that has not yet noticed it lost the lease may be
          // sending this row; whoever takes it first sends it.
          if (!store.transaction(() => store.notify.claim(row.id, row.attempts, at, at + timeoutMs + CLAIM_MARGIN_MS))) continue;
          busy.add(row.channel);
          const p = deliver(row, channel)
            .catch((err: unknown) => {
              if (!store.health.failed(err, 'notify delivery')) log.error({ err }, 'notify delivery failed');
            })
            .finally(() => {
              busy.delete(row.channel);
              inFlight.delete(p);
              if (running && !timer) timer = setTimeout(tick, 0);
            });
          inFlight.add(p);
        }
      }
    } catch (err) {
      if (!store.health.failed(err, 'notify outbox')) log.error({ err }, 'notify outbox read failed');
    }
    if (running && !timer) timer = setTimeout(tick, pollMs);
  };

  return {
    start() {
      running = true;
      if (!timer) timer = setTimeout(tick, 0);
      // The log is kept for LOG_RETENTION_MS; what is still pending is never pruned.
      pruner = setInterval(() => {
        try {
          store.transaction(() => store.notify.prune(now() - LOG_RETENTION_MS));
        } catch (err) {
          if (!store.health.failed(err, 'notify prune')) log.error({ err }, 'notify prune failed');
        }
      }, 3_600_000);
      pruner.unref();
    },
    async stop() {
      running = false;
      clearTimeout(timer);
      clearInterval(pruner);
      timer = undefined;
      await Promise.all([...inFlight]);
    },
    nudge() {
      if (!running) return;
      clearTimeout(timer);
      timer = setTimeout(tick, 0);
    },
  };
}
