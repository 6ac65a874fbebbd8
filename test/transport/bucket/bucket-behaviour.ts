import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import type { Bucket, BucketObject } from '../../../src/transport/bucket/bucket.js';

/** What a suite needs: a fresh, empty bucket and the key prefix to write under. */
export interface BucketUnderTest {
  bucket: Bucket;
  prefix: string;
}

/** The Bucket contract, run against each implementation (the in-memory fake and radosgw), so they cannot drift. */
export function describeBucketBehaviour(name: string, open: () => Promise<BucketUnderTest>): void {
  describe(`${name}: the Bucket contract`, () => {
    let b: Bucket;
    let p: string;
    beforeAll(async () => {
      ({ bucket: b, prefix: p } = await open());
    });
    afterAll(() => b?.close());

    const body = (o: Awaited<ReturnType<Bucket['get']>>): string => {
      expect(o).toBeDefined();
      expect(o?.tooLarge).toBeFalsy();
      return (o as BucketObject).body.toString();
    };

    it('puts and gets an object, and a put overwrites', async () => {
      await b.put(`${p}/a`, 'one');
      const first = await b.get(`${p}/a`, 1024);
      expect(body(first)).toBe('one');
      expect((first as BucketObject).etag).toMatch(/^".+"$/);
      await b.put(`${p}/a`, Buffer.from('two'));
      const second = await b.get(`${p}/a`, 1024);
      expect(body(second)).toBe('two');
      expect((second as BucketObject).etag).not.toBe((first as BucketObject).etag);
    });

    it('gets undefined for a missing key', async () => {
      expect(await b.get(`${p}/missing`, 1024)).toBeUndefined();
    });

    it('round-trips an empty object and keys with spaces and non-ASCII characters', async () => {
      await b.put(`${p}/empty`, '');
      expect(body(await b.get(`${p}/empty`, 0))).toBe('');
      const odd = `${p}/odd key/ü+é=%20&?#`;
      await b.put(odd, 'odd');
      expect(body(await b.get(odd, 10))).toBe('odd');
      await b.copy(odd, `${p}/odd copy`);
      expect(body(await b.get(`${p}/odd copy`, 10))).toBe('odd');
      expect((await b.list(`${p}/odd key/`)).entries.map((e) => e.key)).toEqual([odd]);
    });

    it('putIfAbsent creates once; a second writer gets exists and the first body stays', async () => {
      expect(await b.putIfAbsent(`${p}/claim`, 'first')).toBe('created');
      expect(await b.putIfAbsent(`${p}/claim`, 'second')).toBe('exists');
      expect(body(await b.get(`${p}/claim`, 1024))).toBe('first');
    });

    it('putIfAbsent racing on one key: exactly one writer wins', async () => {
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => b.putIfAbsent(`${p}/race`, `writer-${i}`)));
      expect(results.filter((r) => r === 'created')).toHaveLength(1);
      const winner = results.indexOf('created');
      expect(body(await b.get(`${p}/race`, 1024))).toBe(`writer-${winner}`);
    });

    it('lists in key order under a prefix, one page per call, continuing by token or by startAfter', async () => {
      const keys = ['c', 'a', 'e', 'b', 'd'].map((k) => `${p}/list/${k}`);
      for (const k of keys) await b.put(k, `body-${k}`);
      await b.put(`${p}/listed-not`, 'outside the prefix');
      const sorted = [...keys].sort();

      const all = await b.list(`${p}/list/`);
      expect(all.entries.map((e) => e.key)).toEqual(sorted);
      expect(all.next).toBeUndefined();
      const entry = all.entries[0];
      expect(entry?.size).toBe(Buffer.byteLength(`body-${sorted[0]}`));
      expect(entry?.etag).toMatch(/^".+"$/);
      expect(Math.abs((entry?.lastModified ?? 0) - Date.now())).toBeLessThan(5 * 60_000);

      const paged: string[] = [];
      let next: string | undefined;
      let pages = 0;
      do {
        const page = await b.list(`${p}/list/`, { maxKeys: 1, continuation: next });
        expect(page.entries).toHaveLength(1);
        paged.push(...page.entries.map((e) => e.key));
        next = page.next;
        pages++;
      } while (next !== undefined && pages < 10);
      expect(paged).toEqual(sorted);
      expect(pages).toBe(5);

      const after = await b.list(`${p}/list/`, { startAfter: sorted[2], maxKeys: 1 });
      expect(after.entries.map((e) => e.key)).toEqual([sorted[3]]);
      expect(after.next).toBeDefined();
      const rest = await b.list(`${p}/list/`, { continuation: after.next });
      expect(rest.entries.map((e) => e.key)).toEqual([sorted[4]]);
      expect(rest.next).toBeUndefined();
      expect((await b.list(`${p}/nothing-here/`)).entries).toEqual([]);
    });

    it('answers tooLarge with the size for an object over the limit, and the body at exactly the limit', async () => {
      const big = Buffer.alloc(2 * 1024 * 1024, 7);
      await b.put(`${p}/big`, big);
      expect(await b.get(`${p}/big`, 64 * 1024)).toEqual({ tooLarge: true, size: big.length });
      await b.put(`${p}/edge`, Buffer.alloc(100, 1));
      expect((await b.get(`${p}/edge`, 100))?.tooLarge).toBeFalsy();
      expect(await b.get(`${p}/edge`, 99)).toEqual({ tooLarge: true, size: 100 });
      expect(await b.get(`${p}/edge`, 0)).toEqual({ tooLarge: true, size: 100 });
    });

    it('deletes idempotently, one key or many (more than one request’s worth)', async () => {
      await b.put(`${p}/del/one`, 'x');
      await b.delete(`${p}/del/one`);
      await b.delete(`${p}/del/one`);
      expect(await b.get(`${p}/del/one`, 10)).toBeUndefined();

      const keys = Array.from({ length: 1001 }, (_, i) => `${p}/many/${String(i).padStart(4, '0')}`);
      for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => b.put(k, 'x')));
      const before = b.requestCounts().deleteMany ?? 0;
      await b.deleteMany([...keys, `${p}/many/never-existed`]);
      expect((b.requestCounts().deleteMany ?? 0) - before).toBe(2);
      expect((await b.list(`${p}/many/`)).entries).toEqual([]);
      await b.deleteMany(keys.slice(0, 3));
      await b.deleteMany([]);
    });

    it('copies an object server-side, and a copy of a missing key fails naming it', async () => {
      await b.put(`${p}/src`, 'payload');
      await b.copy(`${p}/src`, `${p}/quarantine/src`);
      expect(body(await b.get(`${p}/quarantine/src`, 100))).toBe('payload');
      expect(body(await b.get(`${p}/src`, 100))).toBe('payload');
      await expect(b.copy(`${p}/nope`, `${p}/quarantine/nope`)).rejects.toMatchObject({ code: 'OKS_ERR_BUCKET', message: expect.stringContaining(`${p}/nope`) });
    });

    it('counts requests by operation', async () => {
      const before = b.requestCounts();
      await b.put(`${p}/count`, 'x');
      await b.putIfAbsent(`${p}/count`, 'x');
      await b.get(`${p}/count`, 10);
      await b.list(`${p}/count`);
      await b.delete(`${p}/count`);
      const after = b.requestCounts();
      for (const op of ['put', 'putIfAbsent', 'get', 'list', 'delete']) expect((after[op] ?? 0) - (before[op] ?? 0), op).toBe(1);
    });
  });
}
