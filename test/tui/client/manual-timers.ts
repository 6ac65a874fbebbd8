import type { Timers } from '../../../tui/client/timers.js';

interface Scheduled {
  id: number;
  at: number;
  fn: () => void;
}

/** Timers driven by hand: `advance(ms)` runs whatever falls due, in time order, letting promises settle between. */
export class ManualTimers implements Timers {
  now = 0;
  private queue: Scheduled[] = [];
  private nextId = 1;

  setTimeout(fn: () => void, ms: number): number {
    const id = this.nextId++;
    this.queue.push({ id, at: this.now + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.queue = this.queue.filter((s) => s.id !== handle);
  }

  /** Delays of what is scheduled, from now, soonest first. */
  pending(): number[] {
    return this.queue.map((s) => s.at - this.now).sort((a, b) => a - b);
  }

  /** Moves the clock forward by `ms`, running each callback due on the way (and flushing microtasks after each). */
  async advance(ms: number): Promise<void> {
    const until = this.now + ms;
    for (;;) {
      await settle();
      const due = this.queue.filter((s) => s.at <= until).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (due === undefined) break;
      this.queue = this.queue.filter((s) => s !== due);
      this.now = due.at;
      due.fn();
    }
    this.now = until;
    await settle();
  }
}

/** Lets pending promise callbacks run (several turns, for chains of awaits). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
