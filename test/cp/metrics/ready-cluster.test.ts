import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createClusterKeyFile } from '../../../src/cp/cluster/cluster-key.js';
import { startNatsServer, type TestNatsServer } from '../../support/nats.js';
import { testPostgresUrl, type TestPostgresDatabase } from '../../support/postgres.js';
import { startCp, waitFor, type CpHarness } from '../cp-harness.js';

describe('GET /v1/ready on a cluster replica', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('checks the bus too: 503 naming the bus while NATS is down, 200 once it is back', { timeout: 60_000 }, async () => {
    // A NATS server of its own (the run's is shared by other files): this test stops it.
    const nats: TestNatsServer = await startNatsServer();
    cleanups.push(() => nats.stop());
    const db: TestPostgresDatabase = await testPostgresUrl();
    cleanups.push(() => db.drop());
    const dir = mkdtempSync(join(tmpdir(), 'okesu-ready-cluster-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const keyFile = join(dir, 'cluster.key');
    createClusterKeyFile(keyFile);
    const h: CpHarness = await startCp({ stateDir: join(dir, 'state'), options: { store: db.url, bus: nats.url, clusterKeyFile: keyFile, replicaId: 'ready-a' } });
    cleanups.push(() => h.close());

    const ready = await h.request('GET', '/v1/ready', { token: null });
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ ready: true, checks: { store: { ok: true }, bus: { ok: true } } });

    await nats.kill();
    const down = await waitFor(async () => {
      const answer = await h.request('GET', '/v1/ready', { token: null });
      return answer.status === 503 ? answer : undefined;
    }, 10_000, 'readiness to fail with the bus down');
    expect(down.body).toMatchObject({ ready: false, checks: { store: { ok: true }, bus: { ok: false, error: expect.stringMatching(/bus/) } } });
    expect((await h.request('GET', '/v1/health', { token: null })).status).toBe(200);

    await nats.start();
    await waitFor(async () => (await h.request('GET', '/v1/ready', { token: null })).status === 200, 20_000, 'readiness back with the bus');
  });
});
