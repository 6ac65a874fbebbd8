import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryBucket } from '../../../src/transport/bucket/memory-bucket.js';
import type { Bucket } from '../../../src/transport/bucket/bucket.js';
import { OkesuError } from '../../../src/errors.js';
import { waitFor } from '../cp-harness.js';
import { startJobsCp, type JobsCp } from '../jobs/jobs-helpers.js';
import { httpGet, valueOf } from './metrics-text.js';

/** A memory bucket whose LISTs fail while `down` is set (an unreachable S3, as the scanner meets it). */
function flakyBucket(): { bucket: Bucket; state: { down: boolean } } {
  const inner = createMemoryBucket();
  const state = { down: false };
  const bucket: Bucket = {
    ...inner,
    list: async (prefix, opts) => {
      if (state.down) throw new OkesuError('OKS_ERR_BUCKET', 'list: connect ECONNREFUSED');
      return inner.list(prefix, opts);
    },
  };
  return { bucket, state };
}

describe('jobs mode metrics', () => {
  let env: JobsCp | undefined;
  afterEach(async () => {
    await env?.cp.close();
    env = undefined;
  });

  it('counts the bucket scanner\'s passes by result, and its lag grows while the bucket is unreachable, then falls back', async () => {
    const flaky = flakyBucket();
    env = await startJobsCp({ bucket: flaky.bucket, options: { bucketScanMs: 50, metricsListen: { host: '127.0.0.1', port: 0 } } });
    const url = `http://127.0.0.1:${env.cp.cp.metricsAddress()?.port}/metrics`;
    const read = async (): Promise<{ ok: number; failed: number; lag: number }> => {
      const { text } = await httpGet(url);
      return {
        ok: valueOf(text, 'okesu_bucket_scans_total', { result: 'ok' }) ?? -1,
        failed: valueOf(text, 'okesu_bucket_scans_total', { result: 'failed' }) ?? -1,
        lag: valueOf(text, 'okesu_bucket_scan_lag_seconds') ?? -1,
      };
    };
    const healthy = await waitFor(async () => {
      const r = await read();
      return r.ok >= 2 ? r : undefined;
    }, 10_000, 'two complete passes');
    expect(healthy.failed).toBe(0);
    expect(healthy.lag).toBeGreaterThanOrEqual(0);
    expect(healthy.lag).toBeLessThan(5);

    flaky.state.down = true;
    const behind = await waitFor(async () => {
      const r = await read();
      return r.failed >= 2 && r.lag >= 0.5 ? r : undefined;
    }, 10_000, 'failed passes and a growing lag');
    const okWhileDown = behind.ok;

    flaky.state.down = false;
    const caughtUp = await waitFor(async () => {
      const r = await read();
      return r.ok > okWhileDown && r.lag < behind.lag ? r : undefined;
    }, 10_000, 'a complete pass again');
    expect(caughtUp.failed).toBeGreaterThanOrEqual(behind.failed);
  });
});
