import { Transform, type Readable } from 'node:stream';
import { bucketUrl } from './bucket-url.js';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { OkesuError } from '../../errors.js';
import type { Bucket, BucketEntry, BucketLocation, BucketObject, BucketPage, BucketRange, TooLarge } from './bucket.js';

/** Options of an S3 bucket: a logger for failed requests and the per-request timeout (default 30 s). */
export interface S3BucketOptions {
  log?: Logger;
  requestTimeoutMs?: number;
}

type Op = 'put' | 'putIfAbsent' | 'putStream' | 'get' | 'getRange' | 'list' | 'delete' | 'deleteMany' | 'copy';

// Marks a command's input with the operation to count it as, where the SDK command alone does not tell (a ranged
// read and a streamed write are a GetObject and a PutObject). The SDK copies inputs with their own properties.
const OP = Symbol('okesu-op');
const marked = <T extends object>(input: T, op: Op): T => Object.assign(input, { [OP]: op });

/** Our operation names of the SDK commands, for requestCounts(). */
const OPS: Record<string, Op> = {
  PutObjectCommand: 'put',
  GetObjectCommand: 'get',
  ListObjectsV2Command: 'list',
  DeleteObjectCommand: 'delete',
  DeleteObjectsCommand: 'deleteMany',
  CopyObjectCommand: 'copy',
};

/**
 * A Bucket over the AWS SDK: AWS S3, radosgw or any S3-compatible store. Credentials come only from the SDK's default
 * chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, instance roles). This module loads the SDK: import it
 * with `openS3Bucket` (open-s3-bucket.ts) so processes that never use a bucket do not load it.
 */
export function createS3Bucket(location: BucketLocation, opts: S3BucketOptions = {}): Bucket {
  // The SDK warns on every start under Node 20 (it will require 22 in 2027); Okesu supports 20.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const timeout = opts.requestTimeoutMs ?? 30_000;
  const client = new S3Client({
    region: location.region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(location.endpoint !== undefined ? { endpoint: location.endpoint, forcePathStyle: true } : {}),
    // Only the operations that require a checksum (DeleteObjects) send one: less CPU, and some S3-compatible stores
    // do not know the newer checksum headers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Without throwOnRequestTimeout the SDK only logs a warning when a request exceeds requestTimeout.
    requestHandler: {
      requestTimeout: timeout,
      throwOnRequestTimeout: true,
      connectionTimeout: Math.min(timeout, 10_000),
      httpAgent: { keepAlive: true },
      httpsAgent: { keepAlive: true },
    },
  });
  const bucket = location.bucket;
  const counts: Record<string, number> = {};

  // Counts each HTTP attempt by operation (retries included: that is what a store bills). The deserialize step runs
  // once per attempt, inside the retry loop.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { IfNoneMatch?: string; [OP]?: Op };
      const op = input[OP] ?? OPS[context.commandName ?? ''] ?? 'other';
      const name = op === 'put' && input.IfNoneMatch !== undefined ? 'putIfAbsent' : op;
      counts[name] = (counts[name] ?? 0) + 1;
      return next(args);
    },
    { step: 'deserialize', name: 'okesuRequestCounts' },
  );

  /** The error a failed request becomes: the operation, the object and the store's code and status; never credentials. */
  function failure(op: Op, key: string, err: unknown): OkesuError {
    const { code, status, message } = describeError(err);
    opts.log?.debug({ op, bucket, key, code, status }, 'bucket request failed');
    const detail = `${op} s3://${bucket}/${key}: ${code}${status !== undefined ? ` (HTTP ${status})` : ''}${message ? ` ${message}` : ''}`;
    return new OkesuError('OKS_ERR_BUCKET', detail);
  }

  async function put(op: 'put' | 'putIfAbsent', key: string, body: Buffer | string, ifNoneMatch: boolean): Promise<'created' | 'exists'> {
    try {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: Buffer.byteLength(body), ...(ifNoneMatch ? { IfNoneMatch: '*' } : {}) }));
      return 'created';
    } catch (err) {
      // 412: the key exists. 409 ConditionalRequestConflict: a concurrent conditional write to the same key won.
      if (ifNoneMatch && (errorCode(err) === 'PreconditionFailed' || errorCode(err) === 'ConditionalRequestConflict')) return 'exists';
      throw failure(op, key, err);
    }
  }

  async function get(key: string, maxBytes: number): Promise<BucketObject | TooLarge | undefined> {
    // A ranged read asks for one byte more than the limit: the store never sends more, and Content-Range tells the
    // whole size. An empty object cannot satisfy a range (416), so it is read again without one.
    let res;
    try {
      try {
        res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${maxBytes}` }));
      } catch (err) {
        if (errorCode(err) !== 'InvalidRange') throw err;
        res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      }
    } catch (err) {
      if (errorCode(err) === 'NoSuchKey') return undefined;
      throw failure('get', key, err);
    }
    const body = res.Body as Readable | undefined;
    const size = totalSize(res.ContentRange) ?? res.ContentLength ?? 0;
    if (size > maxBytes) {
      body?.destroy();
      return { tooLarge: true, size };
    }
    try {
      const read = body ? await readAtMost(body, maxBytes, timeout) : Buffer.alloc(0);
      // A store that ignored the range and did not say the length is cut off at the limit all the same.
      if (read === undefined) return { tooLarge: true, size: Math.max(size, maxBytes + 1) };
      return { body: read, etag: res.ETag ?? '' };
    } catch (err) {
      throw failure('get', key, err);
    }
  }

  async function putStream(key: string, body: Readable, size: number): Promise<void> {
    // Counts what flows to the store: a stream shorter or longer than announced must fail, not store other bytes.
    let seen = 0;
    const counted = body.pipe(
      new Transform({
        transform(chunk: Buffer, _enc, done) {
          seen += chunk.length;
          done(seen > size ? new Error(`the stream holds more than the ${size} bytes announced`) : null, chunk);
        },
        flush(done) {
          done(seen !== size ? new Error(`the stream held ${seen} bytes, ${size} were announced`) : null);
        },
      }),
    );
    // A stream that fails (or holds the wrong size) aborts the request: the store never completes a short body.
    const abort = new AbortController();
    let streamError: Error | undefined;
    body.once('error', (err) => counted.destroy(err));
    counted.once('error', (err) => {
      streamError = err;
      abort.abort();
    });
    try {
      await client.send(new PutObjectCommand(marked({ Bucket: bucket, Key: key, Body: counted, ContentLength: size }, 'putStream')), { abortSignal: abort.signal });
    } catch (err) {
      body.destroy();
      counted.destroy();
      if (streamError) throw new OkesuError('OKS_ERR_BUCKET', `putStream s3://${bucket}/${key}: ${streamError.message}`);
      throw failure('putStream', key, err);
    }
    if (streamError) throw new OkesuError('OKS_ERR_BUCKET', `putStream s3://${bucket}/${key}: ${streamError.message}`);
  }

  async function getRange(key: string, start: number, maxBytes: number): Promise<BucketRange | undefined> {
    if (!Number.isSafeInteger(start) || start < 0 || !Number.isSafeInteger(maxBytes) || maxBytes < 1) {
      throw new OkesuError('OKS_ERR_BUCKET', `getRange s3://${bucket}/${key}: bad range start ${start}, ${maxBytes} bytes`);
    }
    let res;
    try {
      res = await client.send(new GetObjectCommand(marked({ Bucket: bucket, Key: key, Range: `bytes=${start}-${start + maxBytes - 1}` }, 'getRange')));
    } catch (err) {
      if (errorCode(err) === 'NoSuchKey') return undefined;
      throw failure('getRange', key, err);
    }
    const body = res.Body as Readable | undefined;
    // A store that ignored the Range answers 200 with the whole object: those bytes are not the ones asked for.
    const range = /^bytes (\d+)-(\d+)\/(\d+)\s*$/.exec(res.ContentRange ?? '');
    if (!range || Number(range[1]) !== start) {
      body?.destroy();
      throw new OkesuError('OKS_ERR_BUCKET', `getRange s3://${bucket}/${key}: the store answered ${res.ContentRange ? `range ${res.ContentRange}` : 'without a Content-Range'}, bytes ${start}- were asked for`);
    }
    try {
      const read = body ? await readAtMost(body, maxBytes, timeout) : Buffer.alloc(0);
      if (read === undefined) throw new Error(`the store sent more than the ${maxBytes} bytes asked for`);
      return { body: read, start, size: Number(range[3]), etag: res.ETag ?? '' };
    } catch (err) {
      throw failure('getRange', key, err);
    }
  }

  async function list(prefix: string, o: { startAfter?: string; continuation?: string; maxKeys?: number } = {}): Promise<BucketPage> {
    try {
      const res = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, StartAfter: o.startAfter, ContinuationToken: o.continuation, MaxKeys: o.maxKeys ?? 1000 }),
      );
      const entries: BucketEntry[] = (res.Contents ?? []).map((c) => ({
        key: c.Key ?? '',
        size: c.Size ?? 0,
        etag: c.ETag ?? '',
        lastModified: c.LastModified?.getTime() ?? 0,
      }));
      return res.IsTruncated && res.NextContinuationToken ? { entries, next: res.NextContinuationToken } : { entries };
    } catch (err) {
      throw failure('list', prefix, err);
    }
  }

  async function deleteMany(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const chunk = keys.slice(i, i + 1000);
      let res;
      try {
        res = await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true } }));
      } catch (err) {
        throw failure('deleteMany', chunk[0] ?? '', err);
      }
      // Quiet mode reports only the keys that failed; a missing key is not a failure.
      const first = res.Errors?.[0];
      if (first) {
        throw new OkesuError('OKS_ERR_BUCKET', `deleteMany s3://${bucket}/${first.Key ?? '?'}: ${first.Code ?? 'error'} (${res.Errors?.length ?? 1} of ${chunk.length} keys failed)`);
      }
    }
  }

  return {
    description: bucketUrl(location),
    put: async (key, body) => {
      await put('put', key, body, false);
    },
    putIfAbsent: (key, body) => put('putIfAbsent', key, body, true),
    putStream,
    get,
    getRange,
    list,
    delete: async (key) => {
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      } catch (err) {
        if (errorCode(err) !== 'NoSuchKey') throw failure('delete', key, err);
      }
    },
    deleteMany,
    copy: async (fromKey, toKey) => {
      try {
        await client.send(new CopyObjectCommand({ Bucket: bucket, Key: toKey, CopySource: `${bucket}/${fromKey.split('/').map(encodeURIComponent).join('/')}` }));
      } catch (err) {
        throw failure('copy', fromKey, err);
      }
    },
    requestCounts: () => ({ ...counts }),
    close: () => client.destroy(),
  };
}

/** The whole size from `Content-Range: bytes 0-N/TOTAL`. */
function totalSize(contentRange: string | undefined): number | undefined {
  const m = contentRange ? /\/(\d+)\s*$/.exec(contentRange) : null;
  return m ? Number(m[1]) : undefined;
}

/**
 * The stream's bytes, or undefined (and the stream destroyed) once more than `max` arrive. A body that stalls for
 * `idleMs` fails: the SDK's request timeout stops at the response headers, and a poller must never hang on one read.
 */
async function readAtMost(stream: Readable, max: number, idleMs: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  const idle = setTimeout(() => stream.destroy(Object.assign(new Error(`the response body stalled for ${idleMs} ms`), { name: 'TimeoutError' })), idleMs);
  try {
    for await (const chunk of stream) {
      idle.refresh();
      const b = chunk as Buffer;
      total += b.length;
      if (total > max) {
        stream.destroy();
        return undefined;
      }
      chunks.push(b);
    }
  } finally {
    clearTimeout(idle);
  }
  return Buffer.concat(chunks, total);
}

/** The S3 error code (`NoSuchKey`, `PreconditionFailed`, …) of an SDK error. */
function errorCode(err: unknown): string | undefined {
  return err instanceof S3ServiceException ? err.name : undefined;
}

/** Code, HTTP status and a short message of any error the SDK throws, for OKS_ERR_BUCKET. */
function describeError(err: unknown): { code: string; status?: number; message: string } {
  if (err instanceof S3ServiceException) {
    return { code: err.name, status: err.$metadata.httpStatusCode, message: shortMessage(err.message, err.name) };
  }
  if (err instanceof Error) {
    const sys = (err as NodeJS.ErrnoException).code;
    return { code: sys ?? err.name, message: shortMessage(err.message, sys ?? err.name) };
  }
  return { code: 'error', message: '' };
}

function shortMessage(message: string, code: string): string {
  if (!message || message === code || message === 'UnknownError') return '';
  const one = message.replace(/\s+/g, ' ').trim();
  return one.length > 200 ? `${one.slice(0, 200)}…` : one;
}
