import type { Logger } from 'pino';
import type { Bucket, BucketEntry } from '../../transport/bucket/bucket.js';
import type { BucketLayout } from '../../protocol/bucket-layout.js';
import { MAX_OBJECT_BYTES } from '../../protocol/bucket-objects.js';
import type { Quarantine } from './quarantine.js';

/** What every part of a scan pass uses. */
export interface ScanContext {
  bucket: Bucket;
  layout: BucketLayout;
  quarantine: Quarantine;
  now: () => number;
  log: Logger;
}

/** Every entry under `prefix`, page by page (each page handled before the next is listed: memory stays bounded). */
export async function forEachPage(ctx: ScanContext, prefix: string, fn: (entries: BucketEntry[]) => Promise<void>, maxKeys?: number): Promise<void> {
  let continuation: string | undefined;
  do {
    const page = await ctx.bucket.list(prefix, { ...(continuation !== undefined && { continuation }), ...(maxKeys !== undefined && { maxKeys }) });
    if (page.entries.length > 0) await fn(page.entries);
    continuation = page.next;
  } while (continuation !== undefined);
}

/**
 * Reads an entry's bytes, or quarantines it unread when the listing (or the read) says it is over MAX_OBJECT_BYTES;
 * undefined when it was quarantined or is gone (deleted since the listing).
 */
export async function readEntry(ctx: ScanContext, entry: BucketEntry): Promise<Buffer | undefined> {
  if (entry.size > MAX_OBJECT_BYTES) {
    await ctx.quarantine.move(entry.key, 'too_large', `${entry.size} bytes, over the ${MAX_OBJECT_BYTES}-byte limit (not read)`, entry.size);
    return undefined;
  }
  const got = await ctx.bucket.get(entry.key, MAX_OBJECT_BYTES);
  if (!got) return undefined;
  if (got.tooLarge) {
    await ctx.quarantine.move(entry.key, 'too_large', `${got.size} bytes, over the ${MAX_OBJECT_BYTES}-byte limit (not read)`, got.size);
    return undefined;
  }
  return got.body;
}

/** Runs `fn` over `items` with at most `limit` at once; the first failure rejects (after the others settle). */
export async function inTurns<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (next < items.length && failure === undefined) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure;
}
