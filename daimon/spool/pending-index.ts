/** What the spool tracks of one segment file: how many of its records await an ack, and the acks already given for it. */
export interface SegmentState {
  no: number;
  file: string;
  /** Records in this file that are durable and not yet acknowledged. */
  live: number;
  /** `acks.jsonl` lines (newline included) for records in this file; kept so compaction can rewrite them. */
  acked: string[];
  ackedBytes: number;
}

/** One durable, un-acknowledged record: its key, its line (`JSON.stringify` of the record), its size on disk and its segment. */
export interface PendingEntry {
  key: string;
  line: string;
  bytes: number;
  seg: SegmentState;
  /** Position in append order, assigned by the index. */
  pos: number;
}

/** A page of pending entries and the cursor to pass to get the next page. */
export interface EntryPage {
  entries: PendingEntry[];
  cursor: number;
}

/**
 * Durable un-acked records in append order. A Map finds a record by key in O(1) for acks; an array of slots, addressed
 * by a position that only grows, keeps the order and lets a reader resume where it stopped without scanning from the
 * start. Acked slots become holes; holes at the front are trimmed, so paging from the oldest record is O(page).
 */
export class PendingIndex {
  private readonly byKey = new Map<string, PendingEntry>();
  private slots: (PendingEntry | undefined)[] = [];
  /** Position of `slots[0]`. */
  private base = 0;
  /** Index in `slots` of the oldest live entry (or `slots.length`). */
  private head = 0;
  private totalBytes = 0;

  /** Records held. */
  get count(): number {
    return this.byKey.size;
  }

  /** Bytes on disk of the records held. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** True when a record with this key is held. */
  has(key: string): boolean {
    return this.byKey.has(key);
  }

  /** Adds a record at the end; false (and nothing added) when its key is already held. */
  add(entry: PendingEntry): boolean {
    if (this.byKey.has(entry.key)) return false;
    entry.pos = this.base + this.slots.length;
    this.byKey.set(entry.key, entry);
    this.slots.push(entry);
    this.totalBytes += entry.bytes;
    return true;
  }

  /** Removes and returns the record with this key, if held. */
  remove(key: string): PendingEntry | undefined {
    const entry = this.byKey.get(key);
    if (!entry) return undefined;
    this.byKey.delete(key);
    this.slots[entry.pos - this.base] = undefined;
    this.totalBytes -= entry.bytes;
    this.trimFront();
    return entry;
  }

  /** Up to `limit` records at or after position `cursor`, oldest first; pass the returned cursor to continue. */
  from(cursor: number, limit: number): EntryPage {
    const entries: PendingEntry[] = [];
    let i = Math.max(cursor - this.base, this.head);
    for (; i < this.slots.length && entries.length < limit; i++) {
      const entry = this.slots[i];
      if (entry) entries.push(entry);
    }
    return { entries, cursor: this.base + i };
  }

  private trimFront(): void {
    while (this.head < this.slots.length && this.slots[this.head] === undefined) this.head++;
    // Drop the trimmed prefix once it is large and most of the array, so trimming costs O(1) amortised.
    if (this.head >= 1024 && this.head * 2 >= this.slots.length) {
      this.slots = this.slots.slice(this.head);
      this.base += this.head;
      this.head = 0;
    }
  }
}
