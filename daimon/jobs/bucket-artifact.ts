import { mkdir, open, stat, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import { OkesuError } from '../../src/errors.js';
import { bucketLayout } from '../../src/protocol/bucket-layout.js';
import { describeIssues } from '../../src/protocol/event.js';
import { signedReleaseSchema, type SignedRelease } from '../../src/protocol/release.js';
import type { Bucket } from '../../src/transport/bucket/bucket.js';

/** Bytes asked for per ranged GET: a chunk is appended to the `.part` file before the next is asked for. */
export const DOWNLOAD_CHUNK_BYTES = 8 * 1024 * 1024;
/** The most a `release.json` may weigh (a manifest is at most 4 KiB, its signature and key id a few hundred bytes more). */
const MAX_RELEASE_JSON_BYTES = 64 * 1024;

/** Where to download a release from, and to. */
export interface BucketDownload {
  bucket: Bucket;
  /** The bucket's key prefix ('' for its root). */
  prefix: string;
  version: string;
  /** The size the signed manifest gives: nothing past it is ever written. */
  size: number;
  /** The partial file (`STATE/upgrade/download-V.part`): appended to from its length on; created when absent. */
  partPath: string;
  /** Bytes per ranged GET (default DOWNLOAD_CHUNK_BYTES). */
  chunkBytes?: number;
  /** Told the bytes on disk after each chunk (for `downloading` reports). */
  onProgress?: (bytes: number, size: number) => void;
  /** Stops between two chunks (what is on disk stays, for a later resume). */
  signal?: AbortSignal;
}

/** What a download did (the shape of the tunnel download's outcome, daimon/lifecycle/download-artifact.ts). */
export interface BucketDownloadOutcome {
  /** Bytes that were already in the part file and kept, 0 for a fresh download. */
  resumedFrom: number;
  /** Bytes read from the bucket by this call. */
  received: number;
}

/**
 * Downloads a release's artifact from `releases/VERSION/artifact` (docs/jobs-mode.md, Upgrades) into `partPath`,
 * resuming: a `.part` already holding N bytes is continued with ranged GETs from byte N. Each chunk is written and
 * synced before the next is asked for, so a process killed in the middle loses at most one chunk. Never writes past
 * `size`; a `.part` longer than `size` (another release's leftovers) is started again. The caller checks the SHA-256
 * of the whole file against the signed manifest (and discards the `.part` when it does not match).
 * Throws OKS_ERR_RELEASE_MISMATCH when the bucket holds an object of another size, OKS_ERR_BUCKET when it holds none or
 * fails.
 */
export async function downloadReleaseFromBucket(d: BucketDownload): Promise<BucketDownloadOutcome> {
  const layout = bucketLayout(d.prefix);
  const key = layout.releaseArtifact(d.version);
  const chunk = d.chunkBytes ?? DOWNLOAD_CHUNK_BYTES;
  await mkdir(dirname(d.partPath), { recursive: true, mode: 0o700 });
  let have = await sizeOf(d.partPath);
  if (have > d.size) {
    await truncate(d.partPath, 0);
    have = 0;
  }
  const resumedFrom = have;
  const file = await open(d.partPath, 'a', 0o600);
  try {
    while (have < d.size) {
      d.signal?.throwIfAborted();
      const got = await d.bucket.getRange(key, have, Math.min(chunk, d.size - have));
      if (!got) throw new OkesuError('OKS_ERR_BUCKET', `release ${d.version} is not in the bucket (${d.bucket.description}, ${key})`);
      if (got.size !== d.size) {
        throw new OkesuError('OKS_ERR_RELEASE_MISMATCH', `the bucket's artifact of release ${d.version} is ${got.size} bytes, its signed manifest says ${d.size}`);
      }
      if (got.body.length === 0) throw new OkesuError('OKS_ERR_BUCKET', `release ${d.version}: the bucket answered no bytes from byte ${have} (${key})`);
      // The store answers at most what was asked; the bound is kept here too, as the file's size must never pass `size`.
      const bytes = got.body.subarray(0, d.size - have);
      await file.write(bytes);
      await file.sync();
      have += bytes.length;
      d.onProgress?.(have, d.size);
    }
  } finally {
    await file.close();
  }
  return { resumedFrom, received: have - resumedFrom };
}

/**
 * Reads `releases/VERSION/release.json`: the signed release as the CP published it, not verified here (the caller
 * verifies its signature with the host's trusted release keys). Undefined when there is none; OKS_ERR_RELEASE_INVALID
 * when it is not a signed release.
 */
export async function readSignedRelease(bucket: Bucket, prefix: string, version: string): Promise<SignedRelease | undefined> {
  const key = bucketLayout(prefix).releaseManifest(version);
  const got = await bucket.get(key, MAX_RELEASE_JSON_BYTES);
  if (!got) return undefined;
  if (got.tooLarge) throw new OkesuError('OKS_ERR_RELEASE_INVALID', `${key}: ${got.size} bytes, over the ${MAX_RELEASE_JSON_BYTES}-byte limit`);
  let json: unknown;
  try {
    json = JSON.parse(got.body.toString('utf8'));
  } catch {
    throw new OkesuError('OKS_ERR_RELEASE_INVALID', `${key}: not JSON`);
  }
  const parsed = signedReleaseSchema.safeParse(json);
  if (!parsed.success) throw new OkesuError('OKS_ERR_RELEASE_INVALID', `${key}: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}
