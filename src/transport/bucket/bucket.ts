import type { Readable } from 'node:stream';

/**
 * An object store as the jobs transport sees it (SPEC §3.2): the few S3 operations the dead-drop protocol needs.
 * `s3-bucket.ts` implements it over the AWS SDK (AWS S3, radosgw, any S3-compatible store); `memory-bucket.ts` is an
 * in-process fake for unit tests. Keys are full keys (the prefix already applied by the caller's layout).
 */
export interface Bucket {
  /** A short description for logs and errors: `s3://bucket/prefix` (never credentials). */
  readonly description: string;
  /** Writes (or overwrites) an object. */
  put(key: string, body: Buffer | string): Promise<void>;
  /**
   * Creates an object only if no object has that key (S3 `If-None-Match: *`): `created`, or `exists` when another
   * writer got there first (HTTP 412 / 409). The store decides atomically; this is how a job is claimed once.
   */
  putIfAbsent(key: string, body: Buffer | string): Promise<'created' | 'exists'>;
  /**
   * Reads an object: undefined when there is none. An object larger than `maxBytes` is not downloaded past the limit:
   * the answer is `{ tooLarge: true, size }` so the caller can quarantine it by key.
   */
  get(key: string, maxBytes: number): Promise<BucketObject | TooLarge | undefined>;
  /**
   * Writes (or overwrites) an object of `size` bytes from a stream, without holding it in memory: a release artifact.
   * One PUT (S3 takes up to 5 GiB in one; a release is at most 1 GiB), so a failure is retried by calling again with a
   * new stream. Fails when the stream does not yield exactly `size` bytes.
   */
  putStream(key: string, body: Readable, size: number): Promise<void>;
  /**
   * Reads at most `maxBytes` (≥ 1) of an object from byte `start` on (S3 `Range`): a resumable download, one chunk at
   * a time. Undefined when there is no such object; OKS_ERR_BUCKET when `start` is at or past its end, or when the
   * store answered other bytes than those asked for. `size` is the whole object's size.
   */
  getRange(key: string, start: number, maxBytes: number): Promise<BucketRange | undefined>;
  /**
   * Lists keys under `prefix` in key order, one page (at most `maxKeys`, default 1000) per call; `startAfter` or the
   * previous page's `next` token continue. Each entry has its size, ETag and last-modified time (ms).
   */
  list(prefix: string, opts?: { startAfter?: string; continuation?: string; maxKeys?: number }): Promise<BucketPage>;
  /** Deletes an object; deleting a missing key succeeds. */
  delete(key: string): Promise<void>;
  /** Deletes up to 1000 keys in one request where the store allows (S3 DeleteObjects); missing keys succeed. */
  deleteMany(keys: readonly string[]): Promise<void>;
  /** Server-side copy (S3 CopyObject): moving an oversized or hostile object to quarantine without reading it. */
  copy(fromKey: string, toKey: string): Promise<void>;
  /** Requests made so far, by operation (`put`, `putIfAbsent`, `putStream`, `get`, `getRange`, `list`, `delete`, `deleteMany`, `copy`): for metrics and the bench. */
  requestCounts(): Readonly<Record<string, number>>;
  /** Releases sockets. */
  close(): void;
}

/** An object read whole. */
export interface BucketObject {
  tooLarge?: false;
  body: Buffer;
  etag: string;
}

/** Part of an object: its bytes from `start`, and the size and ETag of the whole object. */
export interface BucketRange {
  body: Buffer;
  start: number;
  size: number;
  etag: string;
}

/** An object that was over the caller's limit. */
export interface TooLarge {
  tooLarge: true;
  size: number;
}

/** One entry of a listing. */
export interface BucketEntry {
  key: string;
  size: number;
  etag: string;
  lastModified: number;
}

/** One page of a listing; `next` is set when more keys follow. */
export interface BucketPage {
  entries: BucketEntry[];
  next?: string;
}

/** Where a bucket is: `s3://BUCKET[/PREFIX]` plus the endpoint and region flags. */
export interface BucketLocation {
  bucket: string;
  /** Key prefix without leading or trailing slash ('' for the bucket's root). */
  prefix: string;
  /** S3-compatible endpoint (`--s3-endpoint`), e.g. http://127.0.0.1:7480; unset means AWS S3. Path-style addressing when set. */
  endpoint?: string;
  /** Region (`--s3-region`); default AWS_REGION, else us-east-1. */
  region?: string;
}
