import { generateKeyPairSync } from 'node:crypto';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createJobsRoute } from '../../../src/cp/jobs/jobs-route.js';
import { createInboxCleanup } from '../../../src/cp/jobs/inbox-cleanup.js';
import { createMemoryBucket } from '../../../src/transport/bucket/memory-bucket.js';
import { bucketLayout } from '../../../src/protocol/bucket-layout.js';
import { createObjectSigner, peekHeader } from '../../../src/transport/bucket/signed-object.js';
import type { HostStanding } from '../../../src/cp/liveness.js';
import { runId, waitFor } from '../cp-harness.js';

const NOW = 1_800_000_000_000;

const ONLINE: HostStanding = { usesBucket: true, connected: false, lastHeard: NOW, intervalMs: 10_000, state: 'online' };

function setup(standing: HostStanding | undefined) {
  const bucket = createMemoryBucket();
  const layout = bucketLayout('p');
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const log = pino({ level: 'silent' });
  const cleanup = createInboxCleanup({ bucket, layout, log });
  const route = createJobsRoute({ bucket, layout, signer: createObjectSigner('cp', key), standing: () => standing, cleanup, now: () => NOW, log });
  return { bucket, layout, route };
}

describe('jobs route', () => {
  it('writes a job that expires a minute after the run\'s timeout', async () => {
    const { bucket, layout, route } = setup(ONLINE);
    const run = runId();
    await route.dispatch('h1', { run_id: run, agent: 'edr', prompt: '', inputs: {}, timeout_ms: 120_000, dispatch: 'jobs' });
    const body = bucket.objects.get(layout.job('h1', run))?.body;
    expect(peekHeader(body as Buffer)).toMatchObject({ kind: 'job', from: 'cp', to: 'host:h1', issued_at: NOW, expires_at: NOW + 180_000, key: `hosts/h1/inbox/${run}.job` });
  });

  it('a run the host ended loses its job, claim and cancel; one the CP ended loses only its job', async () => {
    const { bucket, layout, route } = setup(ONLINE);
    const [a, b] = [runId(), runId()];
    for (const run of [a, b]) {
      await route.dispatch('h1', { run_id: run, agent: 'edr', prompt: '', inputs: {}, dispatch: 'jobs' });
      await bucket.put(layout.claim('h1', run), 'c');
      await route.cancel('h1', run, 'stop');
    }
    route.onRunChanged({ run_id: a, host: 'h1', status: 'cancelled', route: 'jobs' }, 'host');
    route.onRunChanged({ run_id: b, host: 'h1', status: 'timeout', route: 'jobs' }, 'cp');
    route.onRunChanged({ run_id: b, host: 'h1', status: 'running', route: 'jobs' }, 'host');
    await waitFor(() => !bucket.objects.has(layout.job('h1', b)), 2000, 'the cleanup');
    expect([...bucket.objects.keys()].sort()).toEqual([layout.cancel('h1', b), layout.claim('h1', b)].sort());
  });

  it.each([
    [undefined, 'the host does not use the bucket'],
    [{ usesBucket: false, connected: true, lastHeard: NOW, intervalMs: 5000, state: 'online' as const }, 'the host does not use the bucket'],
    [{ usesBucket: true, connected: false, lastHeard: NOW - 130_000, intervalMs: 10_000, state: 'offline' as const }, 'the host has been offline for 13 intervals (10 s each)'],
  ])('says why it cannot reach %o', (standing, why) => {
    const { route } = setup(standing);
    expect(route.canReach('h1')).toBe(false);
    expect(route.whyNot('h1')).toBe(why);
  });
});
