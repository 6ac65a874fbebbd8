import { expect, it } from 'vitest';
import { createMemoryBucket } from '../../../src/transport/bucket/memory-bucket.js';
import { describeBucketBehaviour } from './bucket-behaviour.js';

describeBucketBehaviour('memory bucket', async () => ({ bucket: createMemoryBucket(), prefix: 'okesu' }));

it('keeps its own copy of a body (a caller changing its buffer later does not change the object)', async () => {
  const b = createMemoryBucket();
  const buf = Buffer.from('abc');
  await b.put('k', buf);
  buf[0] = 0x7a;
  expect(b.objects.get('k')?.body.toString()).toBe('abc');
});
