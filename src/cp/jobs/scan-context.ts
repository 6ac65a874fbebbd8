import type { Logger } from 'pino';
import type { Bucket, BucketEntry } from '../../transport/bucket/bucket.js';
import type { BucketLayout } from '../../protocol/bucket-layout.js';
import { MAX_OBJECT_BYTES, hostParty } from '../../protocol/bucket-objects.js';
import { parseBucketKey } from '../../protocol/bucket-layout.js';
import { readObject, type VerifiedObject } from '../../transport/bucket/signed-object.js';
import type { HostKeys } from './host-keys.js';
import type { Quarantine } from './quarantine.js';

/** What every part of a scan pass uses. */
export interface ScanContext {
  bucket: Bucket;
  layout: BucketLayout;
  quarantine: Quarantine;
  now: () => number;
  log: Logger;
  /** Keys per LIST page (default, and at most, 1000: S3's own). */
  pageSize?: number;
}

/** Every entry under `prefix`, page by page (each page handled before the next is listed: memory stays bounded). */
export async function forEachPage(ctx: ScanContext, prefix: string, fn: (entries: BucketEntry[]) => Promise<void>): Promise<void> {
  let continuation: string | undefined;
  do {
    const page = await ctx.bucket.list(prefix, { ...(continuation !== undefined && { continuation }), ...(ctx.pageSize !== undefined && { maxKeys: ctx.pageSize }) });
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

/** An object a host wrote, verified as that host's: where it was, whose it is, and its header and body lines. */
export interface HostObjectRead<K extends string> {
  relative: string;
  host: string;
  kind: K;
  object: VerifiedObject;
}

/**
 * Reads and verifies an object a host wrote (`out/`, `hb/`): its key must be a layout key of one of `kinds`, and it
 * must verify as written by the host its key names, for the CP. Anything else is quarantined (`shape` names the keys
 * expected, for the reason); undefined when it was quarantined or is gone.
 */
export async function readHostObject<K extends 'events' | 'exit' | 'heartbeat' | 'upgrade_status'>(
  ctx: ScanContext, entry: BucketEntry, hostKeys: HostKeys, kinds: readonly K[], shape: string,
): Promise<HostObjectRead<K> | undefined> {
  const relative = ctx.layout.relative(entry.key) ?? entry.key;
  const parsed = parseBucketKey(relative);
  if (!parsed || !(kinds as readonly string[]).includes(parsed.kind) || !('host' in parsed)) {
    await ctx.quarantine.move(entry.key, 'bad_key', `not a key of the layout (${shape})`, entry.size);
    return undefined;
  }
  const bytes = await readEntry(ctx, entry);
  if (!bytes) return undefined;
  const { host } = parsed;
  const kind = parsed.kind as K;
  const party = hostParty(host);
  const read = readObject(bytes, {
    key: relative, kind, to: 'cp', now: ctx.now(),
    from: (p) => p === party, keysOf: (p) => (p === party ? hostKeys.keysOf(host) : undefined),
  });
  if (!read.ok) {
    await ctx.quarantine.move(entry.key, 'unverified', read.reason, entry.size);
    return undefined;
  }
  return { relative, host, kind, object: read.object };
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
