import type { Logger } from 'pino';
import type { CpMessages } from './cp-bus.js';

type Handler<K extends keyof CpMessages> = (message: CpMessages[K], origin: string) => void;

/** The in-process half of every CpBus: subscribers per topic, delivered synchronously, in order, each one isolated. */
export interface TopicFanout {
  /** Hands the message to every current subscriber of `topic`; returns once all of them have run. */
  emit<K extends keyof CpMessages>(topic: K, message: CpMessages[K], origin: string): void;
  subscribe<K extends keyof CpMessages>(topic: K, handler: Handler<K>): () => void;
  clear(): void;
}

interface Pending {
  topic: keyof CpMessages;
  message: unknown;
  origin: string;
}

/**
 * Creates the fan-out. A subscriber that throws (or whose returned promise rejects) is logged and the others still get
 * the message. A message emitted from inside a subscriber is queued behind the one being delivered, so every subscriber
 * sees messages in emit order (the feed's cursor order) even when handlers publish.
 */
export function createTopicFanout(log?: Logger): TopicFanout {
  const handlers = new Map<keyof CpMessages, Set<Handler<keyof CpMessages>>>();
  const queue: Pending[] = [];
  let delivering = false;

  function deliverOne({ topic, message, origin }: Pending): void {
    const set = handlers.get(topic);
    if (!set) return;
    for (const handler of [...set]) {
      if (!set.has(handler)) continue; // unsubscribed by an earlier handler of this message
      try {
        const result: unknown = handler(message as CpMessages[keyof CpMessages], origin);
        if (result instanceof Promise) result.catch((err: unknown) => log?.error({ err, topic }, 'bus subscriber failed'));
      } catch (err) {
        log?.error({ err, topic }, 'bus subscriber failed');
      }
    }
  }

  return {
    emit(topic, message, origin) {
      queue.push({ topic, message, origin });
      if (delivering) return;
      delivering = true;
      try {
        for (let next = queue.shift(); next; next = queue.shift()) deliverOne(next);
      } finally {
        delivering = false;
      }
    },
    subscribe(topic, handler) {
      let set = handlers.get(topic);
      if (!set) handlers.set(topic, (set = new Set()));
      const h = handler as Handler<keyof CpMessages>;
      set.add(h);
      return () => {
        set.delete(h);
      };
    },
    clear() {
      handlers.clear();
    },
  };
}
