import { createHash } from 'node:crypto';
import { OkesuError } from '../../errors.js';
import type { Readable } from 'node:stream';
import type { Bucket, BucketEntry, BucketObject, BucketPage, BucketRange, TooLarge } from './bucket.js';

/** One object of the fake. */
export interface StoredObject {
  body: Buffer;
  etag: string;
  lastModified: number;
}

/** The in-process fake's extras for tests: its objects by key, to inspect or tamper with directly. */
export interface MemoryBucket extends Bucket {
  readonly objects: Map<string, StoredObject>;
}

/**
 * An in-process Bucket for fast unit tests (and the embedded bucket `okesu demo --jobs-hosts` shares between its CP and
 * its jobs-mode hosts): atomic putIfAbsent (nothing awaits between the check and the write),
 * listing in key order with paging, the size limit on get, request counts, and S3-style quoted MD5 ETags.
 * It is a model of S3, not S3: transport tests whose correctness depends on conditional writes or on paging must also
 * run against radosgw (test/support/s3.ts), which is the real thing.
 */
export function createMemoryBucket(name = 'memory'): MemoryBucket {
  const objects = new Map<string, StoredObject>();
  const counts: Record<string, number> = {};
  const count = (op: string): void => {
    counts[op] = (counts[op] ?? 0) + 1;
  };
  const store = (key: string, body: Buffer | string): void => {
    const bytes = Buffer.from(body); // a copy: later changes to the caller's buffer do not reach the store
    objects.set(key, { body: bytes, etag: `"${createHash('md5').update(bytes).digest('hex')}"`, lastModified: Date.now() });
  };

  return {
    description: `memory://${name}`,
    objects,

    async put(key, body) {
      count('put');
      store(key, body);
    },

    async putIfAbsent(key, body) {
      count('putIfAbsent');
      if (objects.has(key)) return 'exists';
      store(key, body);
      return 'created';
    },

    async putStream(key: string, body: Readable, size: number) {
      count('putStream');
      const chunks: Buffer[] = [];
      let total = 0;
      for await (const chunk of body) {
        total += (chunk as Buffer).length;
        if (total > size) {
          body.destroy();
          break;
        }
        chunks.push(chunk as Buffer);
      }
      if (total !== size) throw new OkesuError('OKS_ERR_BUCKET', `putStream memory://${name}/${key}: the stream held ${total > size ? `more than ${size}` : total} bytes, ${size} were announced`);
      store(key, Buffer.concat(chunks, total));
    },

    async getRange(key: string, start: number, maxBytes: number): Promise<BucketRange | undefined> {
      count('getRange');
      const o = objects.get(key);
      if (!o) return undefined;
      if (!Number.isSafeInteger(start) || start < 0 || start >= o.body.length || !Number.isSafeInteger(maxBytes) || maxBytes < 1) {
        throw new OkesuError('OKS_ERR_BUCKET', `getRange memory://${name}/${key}: InvalidRange (HTTP 416) bytes ${start}- of ${o.body.length}`);
      }
      return { body: Buffer.from(o.body.subarray(start, start + maxBytes)), start, size: o.body.length, etag: o.etag };
    },

    async get(key, maxBytes): Promise<BucketObject | TooLarge | undefined> {
      count('get');
      const o = objects.get(key);
      if (!o) return undefined;
      if (o.body.length > maxBytes) return { tooLarge: true, size: o.body.length };
      return { body: Buffer.from(o.body), etag: o.etag };
    },

    async list(prefix, opts = {}): Promise<BucketPage> {
      count('list');
      const maxKeys = Math.min(Math.max(opts.maxKeys ?? 1000, 1), 1000);
      // The continuation token is the last key of the previous page (opaque to callers, as S3's is).
      const after = opts.continuation !== undefined ? Buffer.from(opts.continuation, 'base64url').toString() : opts.startAfter;
      const keys = [...objects.keys()].filter((k) => k.startsWith(prefix) && (after === undefined || compareKeys(k, after) > 0)).sort(compareKeys);
      const page = keys.slice(0, maxKeys);
      const entries: BucketEntry[] = page.map((key) => {
        const o = objects.get(key) as StoredObject;
        return { key, size: o.body.length, etag: o.etag, lastModified: o.lastModified };
      });
      const last = page.at(-1);
      return keys.length > maxKeys && last !== undefined ? { entries, next: Buffer.from(last).toString('base64url') } : { entries };
    },

    async delete(key) {
      count('delete');
      objects.delete(key);
    },

    async deleteMany(keys) {
      for (let i = 0; i < keys.length; i += 1000) {
        count('deleteMany');
        for (const key of keys.slice(i, i + 1000)) objects.delete(key);
      }
    },

    async copy(fromKey, toKey) {
      count('copy');
      const o = objects.get(fromKey);
      if (!o) throw new OkesuError('OKS_ERR_BUCKET', `copy memory://${name}/${fromKey}: NoSuchKey (HTTP 404)`);
      objects.set(toKey, { ...o, lastModified: Date.now() });
    },

    requestCounts: () => ({ ...counts }),
    close() {},
  };
}

/** S3 lists keys in UTF-8 byte order; JS string order differs for characters outside the BMP. */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
