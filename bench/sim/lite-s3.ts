/**
 * A minimal S3 client for the simulated fleet: the few requests a jobs-mode host makes (PUT, conditional PUT, GET,
 * ListObjectsV2, DELETE) over keep-alive HTTP with AWS Signature V4 (unsigned payload), path-style. The AWS SDK costs
 * about 2 ms of CPU per request on this machine; a thousand simulated hosts on it would measure the simulator, not the
 * store or the CP. Implements the `Bucket` operations the sim uses; the CP and the daimon use the SDK (s3-bucket.ts).
 */
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import type { Bucket, BucketEntry, BucketLocation, BucketObject, BucketPage, TooLarge } from '../../src/transport/bucket/bucket.js';

/** Credentials of the lite client (the bench passes radosgw's keys explicitly). */
export interface LiteCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

const enc = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();
const UNSIGNED = 'UNSIGNED-PAYLOAD';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Opens a lite client on `location` (which must name an endpoint: the lite client speaks plain HTTP to a local store). */
export function createLiteS3Bucket(location: BucketLocation, creds: LiteCredentials, maxSockets = 64): Bucket {
  if (!location.endpoint) throw new Error('the lite S3 client needs an endpoint');
  const endpoint = new URL(location.endpoint);
  const region = location.region ?? 'us-east-1';
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  const counts: Record<string, number> = {};
  let keyDate = '';
  let signingKey: Buffer = Buffer.alloc(0);

  const request = (op: string, method: string, key: string, query: Record<string, string>, headers: Record<string, string>, body?: Buffer | string): Promise<Answer> => {
    counts[op] = (counts[op] ?? 0) + 1;
    const amzDate = new Date().toISOString().replace(/[:-]|\.\d{3}/g, '');
    const day = amzDate.slice(0, 8);
    if (day !== keyDate) {
      keyDate = day;
      signingKey = hmac(hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, day), region), 's3'), 'aws4_request');
    }
    const path = `/${location.bucket}${key === '' ? '' : `/${key.split('/').map(enc).join('/')}`}`;
    const qs = Object.keys(query).sort().map((k) => `${enc(k)}=${enc(query[k] as string)}`).join('&');
    const canonical = [method, path, qs, `host:${endpoint.host}\nx-amz-content-sha256:${UNSIGNED}\nx-amz-date:${amzDate}\n`, 'host;x-amz-content-sha256;x-amz-date', UNSIGNED].join('\n');
    const scope = `${day}/${region}/s3/aws4_request`;
    const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${createHash('sha256').update(canonical).digest('hex')}`;
    const signature = createHmac('sha256', signingKey).update(toSign).digest('hex');
    const auth = `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${signature}`;
    return new Promise((resolve, reject) => {
      const req = http.request({
        host: endpoint.hostname, port: endpoint.port, method, path: qs ? `${path}?${qs}` : path, agent, timeout: 30_000,
        headers: {
          ...headers, authorization: auth, 'x-amz-date': amzDate, 'x-amz-content-sha256': UNSIGNED,
          ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}),
        },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${op} ${key}: timed out`)));
      req.on('error', reject);
      req.end(body);
    });
  };
  const fail = (op: string, key: string, a: Answer): Error => new Error(`${op} s3://${location.bucket}/${key}: HTTP ${a.status} ${/<Code>([^<]*)<\/Code>/.exec(a.body.toString('utf8'))?.[1] ?? ''}`);
  const ok = (a: Answer): boolean => a.status >= 200 && a.status < 300;
  const unsupported = (op: string) => (): never => {
    throw new Error(`the lite S3 client does not ${op}`);
  };

  return {
    description: `s3://${location.bucket}/${location.prefix} (lite)`,
    async put(key, body) {
      const a = await request('put', 'PUT', key, {}, {}, body);
      if (!ok(a)) throw fail('put', key, a);
    },
    async putIfAbsent(key, body) {
      const a = await request('putIfAbsent', 'PUT', key, {}, { 'if-none-match': '*' }, body);
      if (a.status === 412 || a.status === 409) return 'exists';
      if (!ok(a)) throw fail('putIfAbsent', key, a);
      return 'created';
    },
    async get(key, maxBytes): Promise<BucketObject | TooLarge | undefined> {
      const a = await request('get', 'GET', key, {}, {});
      if (a.status === 404) return undefined;
      if (!ok(a)) throw fail('get', key, a);
      if (a.body.length > maxBytes) return { tooLarge: true, size: a.body.length };
      return { body: a.body, etag: String(a.headers.etag ?? '') };
    },
    async list(prefix, opts = {}): Promise<BucketPage> {
      const query: Record<string, string> = { 'list-type': '2', prefix, 'max-keys': String(opts.maxKeys ?? 1000) };
      if (opts.continuation) query['continuation-token'] = opts.continuation;
      if (opts.startAfter) query['start-after'] = opts.startAfter;
      const a = await request('list', 'GET', '', query, {});
      if (!ok(a)) throw fail('list', prefix, a);
      const xml = a.body.toString('utf8');
      const entries: BucketEntry[] = [];
      for (const m of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
        const part = m[1] as string;
        const field = (name: string): string => new RegExp(`<${name}>([^<]*)</${name}>`).exec(part)?.[1] ?? '';
        entries.push({ key: unescapeXml(field('Key')), size: Number(field('Size')), etag: unescapeXml(field('ETag')), lastModified: Date.parse(field('LastModified')) });
      }
      const next = /<IsTruncated>true<\/IsTruncated>/.test(xml) ? /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(xml)?.[1] : undefined;
      return next ? { entries, next: unescapeXml(next) } : { entries };
    },
    async delete(key) {
      const a = await request('delete', 'DELETE', key, {}, {});
      if (!ok(a) && a.status !== 404) throw fail('delete', key, a);
    },
    putStream: unsupported('stream a put'),
    getRange: unsupported('read a range'),
    deleteMany: unsupported('delete many'),
    copy: unsupported('copy'),
    requestCounts: () => counts,
    close: () => agent.destroy(),
  };
}

function unescapeXml(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}
