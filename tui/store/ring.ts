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
