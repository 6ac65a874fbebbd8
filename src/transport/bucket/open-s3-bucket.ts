import type { Bucket, BucketLocation } from './bucket.js';
import type { S3BucketOptions } from './s3-bucket.js';

/**
 * Opens the S3 bucket at `location`, loading the AWS SDK only now: a process that never uses a bucket never
 * evaluates it (docs/architecture.md, heavy dependencies behind `import()`).
 */
export async function openS3Bucket(location: BucketLocation, opts: S3BucketOptions = {}): Promise<Bucket> {
  const { createS3Bucket } = await import('./s3-bucket.js');
  return createS3Bucket(location, opts);
}
