import { randomBytes } from 'node:crypto';
import { OkesuError } from '../../errors.js';
import type { Bucket } from './bucket.js';

/**
 * Checks that the store honours conditional creates (`If-None-Match: *`): a job's claim depends on it, and some
 * S3-compatible stores silently overwrite instead (s3rver and its forks do). Creates a probe object twice under
 * `probeKeyPrefix`, expects `created` then `exists`, and deletes it. Throws OKS_ERR_CONFIG naming the store otherwise.
 */
export async function probeConditionalWrites(bucket: Bucket, probeKeyPrefix: string): Promise<void> {
  const key = `${probeKeyPrefix}${randomBytes(8).toString('hex')}`;
  try {
    const first = await bucket.putIfAbsent(key, 'probe 1');
    const second = await bucket.putIfAbsent(key, 'probe 2');
    if (first !== 'created' || second !== 'exists') {
      throw new OkesuError(
        'OKS_ERR_CONFIG',
        `${bucket.description} does not honour conditional writes (If-None-Match: *): a second create of ${key} answered "${second}". ` +
          'Jobs mode needs them so that a job is claimed once; use AWS S3, Ceph radosgw, or another store that supports them.',
      );
    }
  } finally {
    await bucket.delete(key).catch(() => undefined);
  }
}
