import { pino, type Logger } from 'pino';
import type { CpBus, CpMessages } from '../../../src/cp/bus/cp-bus.js';

/** A pino logger whose records the test can read. */
export interface CapturedLog {
  log: Logger;
  records: Array<Record<string, unknown>>;
  /** Records whose `msg` is `msg`. */
  withMsg(msg: string): Array<Record<string, unknown>>;
}

/** A logger writing JSON records into an array (synchronously). */
export function captureLog(): CapturedLog {
  const records: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => records.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, records, withMsg: (msg) => records.filter((r) => r.msg === msg) };
}

/** What a subscriber received: each message with its origin. */
export interface Collected<K extends keyof CpMessages> {
  items: Array<{ message: CpMessages[K]; origin: string }>;
  /** Resolves once `n` messages have arrived; rejects after `timeoutMs` saying how many did. */
  until(n: number, timeoutMs?: number): Promise<void>;
  stop(): void;
}

/** Subscribes to `topic` on `bus` and keeps what arrives. */
export function collect<K extends keyof CpMessages>(bus: CpBus, topic: K): Collected<K> {
  const items: Collected<K>['items'] = [];
  const waiters: Array<() => void> = [];
  const stop = bus.subscribe(topic, (message, origin) => {
    items.push({ message, origin });
    for (const w of waiters.splice(0)) w();
  });
  async function until(n: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (items.length < n) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${String(topic)}: ${items.length} of ${n} messages arrived within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
  return { items, until, stop };
}

/** Resolves once `cond()` holds, checking every 10 ms; rejects after `timeoutMs` naming `what`. */
export async function waitUntil(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`not ${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A feed message with one entry at `cursor`. */
export function feed(cursor: number): CpMessages['feed'] {
  return { entries: [{ cursor, kind: 'run', payload: { n: cursor } }] };
}
