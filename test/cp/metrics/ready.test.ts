import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCp, waitFor, type CpHarness } from '../cp-harness.js';

// A real store failure without root (as test/cp/store-failure.test.ts): this process's file-size limit set to what the
// WAL holds now, so every commit, which appends to it, fails (EFBIG; a SIGXFSZ handler keeps the process alive).
const setFileSizeLimit = (soft: number | 'unlimited'): void => void execFileSync('prlimit', ['--pid', String(process.pid), `--fsize=${soft}:`]);
const ignoreSigxfsz = (): void => undefined;

describe('GET /v1/ready', () => {
  let h: CpHarness | undefined;
  afterEach(async () => {
    setFileSizeLimit('unlimited');
    process.off('SIGXFSZ', ignoreSigxfsz);
    await h?.close();
    h = undefined;
  });

  it('answers 200 with its checks while the store takes writes, 503 naming the store while it cannot, and 200 again once it can', async () => {
    h = await startCp();
    const cp = h;
    const ready = await cp.request('GET', '/v1/ready', { token: null });
    expect(ready.status).toBe(200);
    // A single CP has no bus to check.
    expect(ready.body).toEqual({ ready: true, checks: { store: { ok: true } } });
    // Liveness stays 200 throughout: the process is alive even when it is not ready.
    expect((await cp.request('GET', '/v1/health', { token: null })).status).toBe(200);

    process.on('SIGXFSZ', ignoreSigxfsz);
    setFileSizeLimit(statSync(join(cp.stateDir, 'cp.db-wal')).size);
    const down = await waitFor(async () => {
      const answer = await cp.request('GET', '/v1/ready', { token: null });
      return answer.status === 503 ? answer : undefined;
    }, 10_000, 'readiness to fail');
    expect(down.body).toEqual({ ready: false, checks: { store: { ok: false, error: 'OKS_ERR_STORE_UNAVAILABLE' } } });
    expect(cp.cp.store().health.failures('ready probe')).toBeGreaterThanOrEqual(1);
    expect((await cp.request('GET', '/v1/health', { token: null })).status).toBe(200);
    // The failure shows in /metrics too, under the operation that met it.
    const metrics = await cp.request('GET', '/metrics');
    expect(metrics.text).toMatch(/^okesu_store_errors_total\{operation="ready probe"\} [1-9]/m);

    setFileSizeLimit('unlimited');
    await waitFor(async () => (await cp.request('GET', '/v1/ready', { token: null })).status === 200, 10_000, 'readiness to come back');
    expect(cp.cp.store().health.state()).toBe('ok');
  });
});
