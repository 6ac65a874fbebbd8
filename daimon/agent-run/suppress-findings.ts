import type { EventBody } from '../../src/protocol/event.js';
import { describeSuppression, findSuppression, isExpired } from '../../src/specs/suppress.js';
import type { SuppressEntry } from '../../src/specs/suppress.js';
import type { Logger } from '../provider.js';

/** One run's view of the host policy's `suppress:` list: which findings to drop, and the count to report. */
export interface RunSuppressions {
  /** True when `finding` is covered by an unexpired entry: it is counted and must not be sent. */
  drop(finding: EventBody): boolean;
  /** The run's `findings_suppressed` event, or undefined when nothing was dropped. */
  report(): EventBody | undefined;
}

/**
 * Applies the host's suppressions to one run of `agent`. Each entry that has expired is named in a warning once per
 * process (`warned`), and no longer suppresses: the findings it hid come back until the host owner renews or drops it.
 */
export function runSuppressions(entries: readonly SuppressEntry[], agent: string, now: number, log: Logger, warned: Set<string>): RunSuppressions {
  for (const e of entries) {
    if (!isExpired(e, now) || warned.has(e.at)) continue;
    warned.add(e.at);
    log.warn({ suppression: describeSuppression(e), expires: e.expiresText, reason: e.reason }, 'host policy suppression has expired and no longer suppresses; renew or remove it');
  }
  const counts = new Map<SuppressEntry, number>();
  return {
    drop(finding) {
      const entry = findSuppression(entries, agent, finding, now);
      if (!entry) return false;
      counts.set(entry, (counts.get(entry) ?? 0) + 1);
      return true;
    },
    report() {
      if (counts.size === 0) return undefined;
      const by = [...counts].map(([e, count]) => ({
        entry: e.index, at: e.at, agent: e.agent, ...(e.rule !== undefined && { rule: e.rule }), reason: e.reason, expires: e.expiresText, count,
      }));
      return { type: 'findings_suppressed', count: by.reduce((n, b) => n + b.count, 0), by };
    },
  };
}
