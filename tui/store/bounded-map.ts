/**
 * `map` with `items` set by `key`, then trimmed to the `limit` newest by `createdAt`. Returns `map` itself when
 * `items` is empty; an item that is already stored keeps its place in the map's order.
 */
export function upsertBounded<T>(
  map: ReadonlyMap<string, T>,
  items: readonly T[],
  key: (item: T) => string,
  createdAt: (item: T) => number,
  limit: number,
): ReadonlyMap<string, T> {
  if (items.length === 0) return map;
  const next = new Map(map);
  for (const item of items) next.set(key(item), item);
  return trimNewest(next, createdAt, limit);
}

/** A map of the `limit` newest entries by `createdAt` (insertion order kept); the map itself when within bounds. */
export function trimNewest<T>(map: Map<string, T>, createdAt: (item: T) => number, limit: number): Map<string, T> {
  if (map.size <= limit) return map;
  const keep = new Set(
    [...map.entries()]
      .sort((a, b) => createdAt(b[1]) - createdAt(a[1]))
      .slice(0, limit)
      .map(([k]) => k),
  );
  for (const k of map.keys()) if (!keep.has(k)) map.delete(k);
  return map;
}

/** `map` with `value` set at `key` as the newest entry, the oldest entries dropped past `limit`. */
export function setEvicting<K, V>(map: ReadonlyMap<K, V>, key: K, value: V, limit: number): ReadonlyMap<K, V> {
  const next = new Map(map);
  next.delete(key);
  next.set(key, value);
  for (const k of next.keys()) {
    if (next.size <= limit) break;
    next.delete(k);
  }
  return next;
}
