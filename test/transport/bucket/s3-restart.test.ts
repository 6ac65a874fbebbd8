import { afterAll, beforeAll, expect, it } from 'vitest';
import type { BucketObject } from '../../../src/transport/bucket/bucket.js';
import { createTestBucket, restartRadosgw, startS3Server, type StartedS3Server, type TestBucket } from '../../support/s3.js';

// A private radosgw: restarting the run's shared one would break the test files using it at the same time.
let server: StartedS3Server;
let t: TestBucket;
beforeAll(async () => {
  server = await startS3Server();
  t = await createTestBucket('restart', { server });
}, 120_000);
afterAll(async () => {
  t?.bucket.close();
  await server?.stop();
});

it('a restarted radosgw keeps its objects and the same client carries on (its kept-alive sockets were cut)', async () => {
  const key = `${t.location.prefix}/kept`;
  await t.bucket.put(key, 'before the restart');
  expect(await t.bucket.putIfAbsent(`${t.location.prefix}/claimed`, 'x')).toBe('created');
  await restartRadosgw(server);
  expect(((await t.bucket.get(key, 1024)) as BucketObject).body.toString()).toBe('before the restart');
  expect(await t.bucket.putIfAbsent(`${t.location.prefix}/claimed`, 'y')).toBe('exists');
  expect((await t.bucket.list(`${t.location.prefix}/`)).entries.map((e) => e.key)).toEqual([`${t.location.prefix}/claimed`, key]);
});
