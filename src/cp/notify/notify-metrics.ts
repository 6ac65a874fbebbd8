import type { MetricCollectors } from '../metrics/collector.js';
import { CHANNEL_KINDS, type ChannelKind, type DeliveryAttempt } from '../../protocol/notify-api.js';
import type { Notifier } from './notifier.js';

const RESULTS: readonly DeliveryAttempt['outcome'][] = ['delivered', 'retry', 'failed'];

/** The outbox's metrics (docs/metrics.md): attempts by channel kind and result, counted here; pending rows, read at scrape. */
export interface NotifyMetrics {
  /** Counts one attempt (the notifier's `onAttempt`). */
  onAttempt(kind: ChannelKind, result: DeliveryAttempt['outcome']): void;
  /** Registers `okesu_notify_deliveries_total` and `okesu_notify_outbox_pending` (the notifier once it exists). */
  register(metrics: MetricCollectors, notifier: () => Notifier | undefined): void;
}

/** Counters for every kind × result, from 0, so a rate over them has a series from the start. */
export function createNotifyMetrics(): NotifyMetrics {
  const attempts = new Map<string, number>(CHANNEL_KINDS.flatMap((k) => RESULTS.map((r) => [`${k}\u0000${r}`, 0] as const)));
  return {
    onAttempt: (kind, result) => void attempts.set(`${kind}\u0000${result}`, (attempts.get(`${kind}\u0000${result}`) ?? 0) + 1),
    register(metrics, notifier) {
      metrics.addCollector({
        name: 'okesu_notify_deliveries_total', help: 'Notification delivery attempts by channel kind and result (delivered, retry, failed).', type: 'counter',
        collect: () => [...attempts].map(([key, value]) => {
          const [kind = '', result = ''] = key.split('\u0000');
          return { labels: { kind, result }, value };
        }),
      });
      metrics.addCollector({
        name: 'okesu_notify_outbox_pending', help: 'Notifications waiting in the durable outbox.', type: 'gauge',
        collect: () => notifier()?.stats().pending ?? 0,
      });
    },
  };
}
