import type { StreamMessage } from '../../src/protocol/api.js';
import type { Timers, TimerHandle } from './timers.js';

/** How long stream messages are collected before they reach the store as one event. */
export const STREAM_FLUSH_MS = 30;

/** Collects stream messages and hands them over in batches. */
export interface StreamBatcher {
  add(msg: StreamMessage): void;
  /** Hands over what is collected now. */
  flush(): void;
  /** Drops what is collected (a full reload supersedes it) and any pending flush. */
  clear(): void;
}

/**
 * Batches stream messages so a burst (1,000 findings a second) costs the UI at most one store update per
 * `flushMs`: the first message arms a timer, and everything that arrives until it fires goes out together.
 */
export function createStreamBatcher(timers: Timers, deliver: (messages: StreamMessage[]) => void, flushMs = STREAM_FLUSH_MS): StreamBatcher {
  let pending: StreamMessage[] = [];
  let timer: TimerHandle | undefined;
  const cancel = (): void => {
    if (timer !== undefined) timers.clearTimeout(timer);
    timer = undefined;
  };
  const flush = (): void => {
    cancel();
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    deliver(batch);
  };
  return {
    add(msg) {
      pending.push(msg);
      timer ??= timers.setTimeout(flush, flushMs);
    },
    flush,
    clear() {
      cancel();
      pending = [];
    },
  };
}
