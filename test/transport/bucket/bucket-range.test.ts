import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bucket } from '../../../src/transport/bucket/bucket.js';
import { createMemoryBucket } from '../../../src/transport/bucket/memory-bucket.js';
import { createTestBucket } from '../../support/s3.js';

/** Streams `bytes` in chunks of `chunk` bytes (a file read stream, as the CP's release store gives). */
function chunked(bytes: Buffer, chunk = 64 * 1024): Readable {
  return Readable.from((function* () {
    for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
  })());
}

// The two operations a release travels by (docs/jobs-mode.md, Upgrades): a streamed PUT of the artifact and ranged
// GETs to download it in resumable chunks. Run against the fake and against radosgw, so they cannot drift.
for (const [name, open] of [
  ['memory bucket', async () => ({ bucket: createMemoryBucket() as Bucket, prefix: 'okesu' })],
  ['s3 bucket on radosgw', async () => {
    const t = await createTestBucket('range');
    return { bucket: t.bucket, prefix: t.location.prefix };
  }],
] as const) {
  describe(`${name}: streamed puts and ranged gets`, () => {
    let b: Bucket;
    let p: string;
    beforeAll(async () => {
      ({ bucket: b, prefix: p } = await open());
    });
    afterAll(() => b?.close());

    it('puts a stream of the announced size and reads it back in ranges', async () => {
      const bytes = randomBytes(3 * 1024 * 1024 + 17);
      const before = b.requestCounts();
      await b.putStream(`${p}/big`, chunked(bytes), bytes.length);
      const whole = await b.get(`${p}/big`, bytes.length);
      expect(whole && !whole.tooLarge && whole.body.equals(bytes)).toBe(true);

      const parts: Buffer[] = [];
      for (let at = 0; at < bytes.length;) {
        const got = await b.getRange(`${p}/big`, at, 1024 * 1024);
        expect(got).toMatchObject({ start: at, size: bytes.length });
        expect(got?.etag).toMatch(/^".+"$/);
        parts.push(got?.body as Buffer);
        at += (got?.body as Buffer).length;
      }
      expect(parts.map((x) => x.length)).toEqual([1024 * 1024, 1024 * 1024, 1024 * 1024, 17]);
      expect(Buffer.concat(parts).equals(bytes)).toBe(true);
      const after = b.requestCounts();
      expect((after.putStream ?? 0) - (before.putStream ?? 0)).toBe(1);
      expect((after.getRange ?? 0) - (before.getRange ?? 0)).toBe(4);
    });

    it('a range in the middle is exactly those bytes; past the end fails; a missing key is undefined', async () => {
      const bytes = randomBytes(1000);
      await b.put(`${p}/small`, bytes);
      const mid = await b.getRange(`${p}/small`, 10, 20);
      expect(mid?.body.equals(bytes.subarray(10, 30))).toBe(true);
      expect((await b.getRange(`${p}/small`, 990, 100))?.body.equals(bytes.subarray(990))).toBe(true);
      await expect(b.getRange(`${p}/small`, 1000, 10)).rejects.toMatchObject({ code: 'OKS_ERR_BUCKET' });
      expect(await b.getRange(`${p}/missing`, 0, 10)).toBeUndefined();
    });

    it('a stream shorter or longer than announced stores nothing', async () => {
      await expect(b.putStream(`${p}/short`, chunked(randomBytes(100)), 200)).rejects.toMatchObject({ code: 'OKS_ERR_BUCKET' });
      await expect(b.putStream(`${p}/long`, chunked(randomBytes(300)), 200)).rejects.toMatchObject({ code: 'OKS_ERR_BUCKET' });
      expect(await b.get(`${p}/short`, 1000)).toBeUndefined();
      expect(await b.get(`${p}/long`, 1000)).toBeUndefined();
    });
  });
}
