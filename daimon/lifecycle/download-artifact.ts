import { createHash } from 'node:crypto';
import { createReadStream, statSync, truncateSync } from 'node:fs';
import { open } from 'node:fs/promises';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { dirname } from 'node:path';
import { OkesuError } from '../../src/errors.js';
import { ensurePrivateDir } from '../../src/files/private-dir.js';
import { errorFromBody } from '../registration.js';

/** How the daimon fetches a release artifact from its CP: the tunnel's authentication (client certificate + credential). */
export interface ArtifactDownload {
  /** `{cp}/v1/releases/VERSION/artifact`. */
  url: URL;
  certPem: string;
  keyPem: string;
  caPem: string;
  /** Host credential `okh_…`, sent as a bearer token. */
  credential: string;
  /** The resumable file (`upgrade/download-VERSION.part`): what is there is kept and continued with `Range`. */
  partPath: string;
  /** The signed size: more is refused as it arrives. */
  size: number;
  /** A silent connection is dropped after this long (default 60 s). */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
}

/** What a download did. */
export interface DownloadOutcome {
  /** Bytes that were already in the part file and kept (a resumed download), 0 for a fresh one. */
  resumedFrom: number;
  /** Bytes received over the network by this call. */
  received: number;
}

/** A failure worth another attempt from where the part file ends (connection dropped, short body). */
export class RetryableDownloadError extends OkesuError {}

function partSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function get(opts: ArtifactDownload, from: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = https.request(opts.url, {
      method: 'GET',
      agent: false,
      cert: opts.certPem,
      key: opts.keyPem,
      ca: opts.caPem,
      rejectUnauthorized: true,
      headers: { authorization: `Bearer ${opts.credential}`, ...(from > 0 && { range: `bytes=${from}-` }) },
      timeout: opts.idleTimeoutMs ?? 60_000,
      ...(opts.signal && { signal: opts.signal }),
    }, resolve);
    req.on('timeout', () => req.destroy(new Error(`no data for ${opts.idleTimeoutMs ?? 60_000} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      reject(new RetryableDownloadError('OKS_ERR_UPGRADE', `GET ${opts.url.href}: ${err.code ? `${err.code} ` : ''}${err.message}`));
    });
    req.end();
  });
}

async function readSmall(res: IncomingMessage, limit = 64 * 1024): Promise<string> {
  let text = '';
  for await (const chunk of res) if (text.length < limit) text += (chunk as Buffer).toString('utf8');
  return text;
}

/** Where a 206 answer's bytes start, from `Content-Range: bytes START-END/TOTAL`. */
function rangeStart(res: IncomingMessage): number | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers['content-range'] ?? '');
  return m ? Number(m[1]) : undefined;
}

/**
 * Downloads the artifact into `partPath` until it holds exactly `size` bytes (docs/lifecycle.md, Upgrade step 4). A
 * part already there is continued with `Range: bytes=N-`: a 206 from N is appended, a 200 (the server ignored the
 * range) starts over. A body running past `size` is cut off and refused. The caller checks the SHA-256 after.
 */
export async function downloadArtifact(opts: ArtifactDownload): Promise<DownloadOutcome> {
  ensurePrivateDir(dirname(opts.partPath));
  let have = partSize(opts.partPath);
  if (have > opts.size) {
    truncateSync(opts.partPath, 0);
    have = 0;
  }
  if (have === opts.size) return { resumedFrom: have, received: 0 };
  const res = await get(opts, have);
  let offset: number;
  if (res.statusCode === 206 && have > 0 && rangeStart(res) === have) offset = have;
  else if (res.statusCode === 200) offset = 0;
  else if (res.statusCode === 416 || res.statusCode === 206) {
    // The part does not fit what the server has (another artifact under that name?): start over.
    res.resume();
    truncateSync(opts.partPath, 0);
    throw new RetryableDownloadError('OKS_ERR_UPGRADE', `the CP could not continue the download at byte ${have} (HTTP ${res.statusCode}); starting over`);
  } else {
    throw errorFromBody(res.statusCode ?? 0, await readSmall(res));
  }
  const declared = Number(res.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && offset + declared > opts.size) {
    res.destroy();
    throw new OkesuError('OKS_ERR_RELEASE_MISMATCH', `the CP sends ${offset + declared} bytes, the signed manifest says ${opts.size}`);
  }
  const file = await open(opts.partPath, offset === 0 ? 'w' : 'a', 0o600);
  let written = offset;
  try {
    for await (const chunk of res) {
      const buf = chunk as Buffer;
      if (written + buf.length > opts.size) {
        res.destroy();
        throw new OkesuError('OKS_ERR_RELEASE_MISMATCH', `the artifact runs past its signed size of ${opts.size} bytes`);
      }
      await file.write(buf);
      written += buf.length;
    }
    await file.sync();
  } catch (err) {
    if (err instanceof OkesuError) throw err;
    throw new RetryableDownloadError('OKS_ERR_UPGRADE', `download cut off at byte ${written} of ${opts.size}: ${(err as Error).message}`);
  } finally {
    await file.close();
  }
  if (written < opts.size) throw new RetryableDownloadError('OKS_ERR_UPGRADE', `download ended at byte ${written} of ${opts.size}`);
  return { resumedFrom: offset, received: written - offset };
}

/** SHA-256 (hex) of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
