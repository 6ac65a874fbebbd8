import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OkesuError } from '../../../src/errors.js';
import type { Bucket } from '../../../src/transport/bucket/bucket.js';
import { openS3Bucket } from '../../../src/transport/bucket/open-s3-bucket.js';
import { createS3Bucket } from '../../../src/transport/bucket/s3-bucket.js';
import { createTestBucket, s3Config, type TestBucket } from '../../support/s3.js';
import { describeBucketBehaviour } from './bucket-behaviour.js';

describeBucketBehaviour('s3 bucket on radosgw', async () => {
  const t = await createTestBucket('contract');
  return { bucket: t.bucket, prefix: t.location.prefix };
});

/** A TCP proxy in front of radosgw that counts the bytes radosgw sends back. */
async function countingProxy(target: URL): Promise<{ server: Server; port: number; received: () => number }> {
  let received = 0;
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    upstream.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    client.pipe(upstream).pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, port: (server.address() as { port: number }).port, received: () => received };
}

describe('s3 bucket on radosgw', () => {
  let t: TestBucket;
  beforeAll(async () => {
    t = await createTestBucket('s3-bucket');
  });
  afterAll(() => t?.bucket.close());

  it('does not download an oversized object past the limit', async () => {
    const key = `${t.location.prefix}/two-mib`;
    await t.bucket.put(key, Buffer.alloc(2 * 1024 * 1024, 1));
    const proxy = await countingProxy(new URL(s3Config().endpoint));
    const viaProxy = createS3Bucket({ ...t.location, endpoint: `http://127.0.0.1:${proxy.port}` });
    try {
      expect(await viaProxy.get(key, 64 * 1024)).toEqual({ tooLarge: true, size: 2 * 1024 * 1024 });
      // The limit plus one byte, plus headers: nowhere near 2 MiB.
      expect(proxy.received()).toBeLessThan(64 * 1024 + 8 * 1024);
      expect(viaProxy.requestCounts().get).toBe(1);
    } finally {
      viaProxy.close();
      proxy.server.close();
    }
  });

  it('fails with an OkesuError naming the operation, the key and the S3 code, never the secret, on bad credentials', async () => {
    const saved = process.env.AWS_SECRET_ACCESS_KEY;
    const secret = 'not-the-right-secret-Zq9xW2';
    process.env.AWS_SECRET_ACCESS_KEY = secret;
    const bad = createS3Bucket(t.location);
    try {
      const err = await bad.put(`${t.location.prefix}/denied`, 'x').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(OkesuError);
      const e = err as OkesuError;
      expect(e.code).toBe('OKS_ERR_BUCKET');
      expect(e.message).toContain(`put s3://${t.location.bucket}/${t.location.prefix}/denied`);
      expect(e.message).toMatch(/SignatureDoesNotMatch \(HTTP 403\)/);
      expect(e.message).not.toContain(secret);
      expect(JSON.stringify(e)).not.toContain(secret);
      await expect(bad.list(t.location.prefix)).rejects.toMatchObject({ code: 'OKS_ERR_BUCKET', message: expect.stringMatching(/^the bucket store failed: list /) });
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = saved;
      bad.close();
    }
  });

  it('fails naming the bucket when it does not exist', async () => {
    const missing = createS3Bucket({ ...t.location, bucket: 'no-such-bucket-okesu' });
    try {
      await expect(missing.get('k', 10)).rejects.toMatchObject({ code: 'OKS_ERR_BUCKET', message: expect.stringContaining('get s3://no-such-bucket-okesu/k: NoSuchBucket (HTTP 404)') });
    } finally {
      missing.close();
    }
  });

  it('fails with the network error when nothing listens at the endpoint', async () => {
    const closed = createServer();
    await new Promise<void>((ok) => closed.listen(0, '127.0.0.1', ok));
    const port = (closed.address() as { port: number }).port;
    await new Promise((ok) => closed.close(ok));
    const down = createS3Bucket({ ...t.location, endpoint: `http://127.0.0.1:${port}` }, { requestTimeoutMs: 2000 });
    try {
      await expect(down.list('x/')).rejects.toMatchObject({ code: 'OKS_ERR_BUCKET', message: expect.stringContaining('ECONNREFUSED') });
      // Each attempt is counted: the SDK's standard retry makes three.
      expect(down.requestCounts().list).toBe(3);
    } finally {
      down.close();
    }
  });

  it('fails after the request timeout when the store accepts connections but never answers', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((ok) => silent.listen(0, '127.0.0.1', ok));
    const port = (silent.address() as { port: number }).port;
    const hung = createS3Bucket({ ...t.location, endpoint: `http://127.0.0.1:${port}` }, { requestTimeoutMs: 300 });
    const started = Date.now();
    try {
      await expect(hung.get('k', 10)).rejects.toMatchObject({ code: 'OKS_ERR_BUCKET', message: expect.stringMatching(/^the bucket store failed: get s3:\/\/[^ ]+\/k: \w+/) });
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      hung.close();
      silent.close();
    }
  });

  it('fails after the timeout when a response body stalls half-way', async () => {
    const stalling = createHttpServer((_req, res) => {
      res.writeHead(206, { 'content-length': '100', 'content-range': 'bytes 0-99/100', etag: '"e"' });
      res.write(Buffer.alloc(10));
    });
    await new Promise<void>((ok) => stalling.listen(0, '127.0.0.1', ok));
    const port = (stalling.address() as { port: number }).port;
    const b = createS3Bucket({ ...t.location, endpoint: `http://127.0.0.1:${port}` }, { requestTimeoutMs: 300 });
    try {
      await expect(b.get('k', 1000)).rejects.toMatchObject({ code: 'OKS_ERR_BUCKET', message: expect.stringContaining('k: TimeoutError the response body stalled for 300 ms') });
    } finally {
      b.close();
      stalling.closeAllConnections();
      stalling.close();
    }
  });

  it('openS3Bucket loads the SDK on demand and gives the same bucket', async () => {
    const opened: Bucket = await openS3Bucket(t.location);
    try {
      await opened.put(`${t.location.prefix}/opened`, 'hi');
      expect(opened.description).toBe(`s3://${t.location.bucket}/${t.location.prefix}`);
      expect((await t.bucket.list(`${t.location.prefix}/opened`)).entries).toHaveLength(1);
    } finally {
      opened.close();
    }
  });
});
