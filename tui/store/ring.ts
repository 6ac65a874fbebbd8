/**
 * A bounded, immutable list: pushing returns a new ring that drops the oldest items past `capacity`.
 * Implementation belongs to the store's owner; the contract is the interface below.
 */
export interface Ring<T> {
  readonly capacity: number;
  readonly size: number;
  /** Items oldest first. */
  toArray(): readonly T[];
  /** The i-th newest item (0 = newest), or undefined. */
  newest(i: number): T | undefined;
  /** A new ring with `items` appended (oldest first), trimmed to capacity. */
  push(...items: T[]): Ring<T>;
  /** A new ring with every item passed through `fn` (same order); used by triage. */
  map(fn: (item: T) => T): Ring<T>;
}

/** An empty ring of `capacity`, or one holding the newest `capacity` of `items` (oldest first). */
export function createRing<T>(capacity: number, items: readonly T[] = []): Ring<T> {
  const cap = Math.max(0, Math.floor(capacity));
  const kept = items.slice(Math.max(0, items.length - cap));
  return new WindowRing<T>(cap, kept, 0, kept.length);
}

/**
 * A window [start, end) over a backing array that successive pushes share: a ring whose window ends at the
 * backing array's end appends in place (older rings keep their own, shorter window, so they do not see it); a ring
 * that is not the newest copies first. The backing array is compacted once the dead prefix exceeds `capacity`, so a
 * push costs O(items) amortised and memory stays under about twice the capacity.
 */
class WindowRing<T> implements Ring<T> {
  private cached: readonly T[] | undefined;

  constructor(
    readonly capacity: number,
    private readonly buf: T[],
    private readonly start: number,
    private readonly end: number,
  ) {}

  get size(): number {
    return this.end - this.start;
  }

  toArray(): readonly T[] {
    // Views call this on every render; the ring is immutable, so the copy is made once.
    this.cached ??= this.buf.slice(this.start, this.end);
    return this.cached;
  }

  newest(i: number): T | undefined {
    if (!Number.isInteger(i) || i < 0 || i >= this.size) return undefined;
    return this.buf[this.end - 1 - i];
  }

  push(...items: T[]): Ring<T> {
    if (items.length === 0) return this;
    if (this.capacity === 0) return this;
    let buf = this.buf;
    let start = this.start;
    let end = this.end;
    if (buf.length !== end) {
      // Another ring already appended past our window: branch off with our own copy.
      buf = buf.slice(start, end);
      start = 0;
      end = buf.length;
    }
    for (const item of items) buf.push(item);
    end = buf.length;
    start = Math.max(start, end - this.capacity);
    if (start > this.capacity) {
      buf = buf.slice(start, end);
      start = 0;
      end = buf.length;
    }
    return new WindowRing(this.capacity, buf, start, end);
  }

  map(fn: (item: T) => T): Ring<T> {
    let changed = false;
    const out: T[] = [];
    for (let i = this.start; i < this.end; i++) {
      const item = this.buf[i] as T;
      const next = fn(item);
      if (next !== item) changed = true;
      out.push(next);
    }
    // Nothing changed (e.g. a triage of findings no longer in the feed): keep identity so nothing re-renders.
    return changed ? new WindowRing(this.capacity, out, 0, out.length) : this;
  }
}
