import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import type { Bucket, BucketLocation } from '../../src/transport/bucket/bucket.js';
import { createS3Bucket } from '../../src/transport/bucket/s3-bucket.js';
import type { S3TestServer } from './s3-provided.js';
import { restartS3Gateway } from './s3-server.js';

export { startS3Server, type StartedS3Server } from './s3-server.js';

/** The run's radosgw (started once by s3-global-setup.ts): endpoint, region, keys and state dir. */
export function s3Config(): S3TestServer {
  const s3 = inject('s3');
  if (!s3) throw new Error('this test needs the S3 test server, and the run was started with OKESU_TEST_S3=off');
  return s3;
}

/** Environment for a child process (or this one) that talks to the test radosgw through the SDK's default chain. */
export function s3Env(s3: S3TestServer = s3Config()): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_REGION: s3.region,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** A fresh bucket on the test radosgw. */
export interface TestBucket {
  location: BucketLocation;
  /** A Bucket over the SDK (close it when done). */
  bucket: Bucket;
  /** `s3://NAME/PREFIX`, as a user passes it to `--bucket` (with `--s3-endpoint location.endpoint`). */
  url: string;
}

/**
 * Creates a uniquely named bucket (`NAME-<random>`) on the run's radosgw (or `opts.server`) and returns its location, a
 * Bucket over it and its URL. This process's environment gets the server's credentials (s3Env()), as the SDK's default
 * chain reads them there. The first bucket on a server takes a few hundred ms more (radosgw creates its pools).
 */
export async function createTestBucket(name = 'okesu', opts: { prefix?: string; server?: S3TestServer } = {}): Promise<TestBucket> {
  const s3 = opts.server ?? s3Config();
  Object.assign(process.env, s3Env(s3));
  const bucketName = `${name.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 40)}-${randomBytes(5).toString('hex')}`;
  const admin = new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  try {
    await admin.send(new CreateBucketCommand({ Bucket: bucketName }));
  } finally {
    admin.destroy();
  }
  const prefix = opts.prefix ?? 'okesu';
  const location: BucketLocation = { bucket: bucketName, prefix, endpoint: s3.endpoint, region: s3.region };
  return { location, bucket: createS3Bucket(location), url: `s3://${bucketName}${prefix ? `/${prefix}` : ''}` };
}

/**
 * Kills radosgw and starts it again on the same port with the same config (mon and osd keep running, so the memstore
 * keeps every object); resolves once it answers again. For "radosgw restarted" tests. Pass a private server from
 * `startS3Server()` (~3 s to start): restarting the run's shared one breaks test files running at the same time.
 */
export async function restartRadosgw(server: S3TestServer = s3Config()): Promise<void> {
  if (!server.dir) throw new Error('restartRadosgw needs the server state dir (OKESU_TEST_S3_DIR when reusing a server)');
  await restartS3Gateway(server.dir);
}
