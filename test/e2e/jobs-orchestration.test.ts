import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrchestrationRunView } from '../../src/protocol/orchestration-api.js';
import type { TestBucket } from '../support/s3.js';
import { okesuJson, runOkesu, spawnOkesu, stop, tempDir, waitFor, TEST_AGENTS, type CpProcess, type OkesuProcess } from './harness.js';
import { jobsBucket, joinToken, routeOf, runView, spawnJobsDaimon, startJobsCp, waitHost } from './jobs-harness.js';

// One CP with a bucket; a tunnel-only host and a jobs-only host side by side in one orchestration.
let tb: TestBucket;
let cp: CpProcess;
const procs: OkesuProcess[] = [];
const track = (p: OkesuProcess): OkesuProcess => (procs.push(p), p);

beforeAll(async () => {
  tb = await jobsBucket('e2e-jobs-orch');
  cp = await startJobsCp(tempDir('jobs-orch-cp'), tb);
  track(spawnOkesu(['daemon', '--cp', cp.url, '--token', await joinToken(cp), '--state', tempDir('jobs-orch-t'), '--hostname', 'jo-tunnel', '--agents', TEST_AGENTS, '--log-level', 'warn']));
  track(spawnJobsDaimon(tb, tempDir('jobs-orch-j'), 'jo-jobs', { token: await joinToken(cp) }));
  await waitHost(cp, 'jo-tunnel', 'online', (h) => h.state === 'online' && h.connected);
  await waitHost(cp, 'jo-jobs', 'online', (h) => h.state === 'online' && h.transport === 'jobs');
}, 60_000);
afterAll(async () => {
  await Promise.all(procs.splice(0).map((p) => stop(p, 'SIGKILL')));
  await stop(cp?.proc, 'SIGKILL');
  tb?.bucket.close();
});

describe('orchestrations over jobs hosts', () => {
  it('runs a `dispatch: jobs` step and a fan-out over a tunnel host and a jobs host', async () => {
    const file = join(tempDir('jobs-orch-spec'), 'jobs-mix.yaml');
    writeFileSync(file, [
      'name: jobs-mix',
      'steps:',
      '  - { id: first, agent: orch-echo, node: jo-jobs, dispatch: jobs, inputs: { x: one } }',
      '  - id: fan',
      '    agent: orch-echo',
      '    nodes: [jo-tunnel, jo-jobs]',
      '    inputs: { x: "{{first.result.x}}-fan", finding: "{{first.result.host}}" }',
      '',
    ].join('\n'));
    const started = await runOkesu(['orchestrate', 'run', file, '--json'], cp.env);
    expect(started.code, started.stderr).toBe(0);
    const id = (JSON.parse(started.stdout) as OrchestrationRunView).id;
    const done = await waitFor(`orchestration ${id} to end`, async () => {
      const run = await okesuJson<OrchestrationRunView>(['orchestrate', 'show', id], cp.env);
      return ['completed', 'failed', 'cancelled'].includes(run.status) ? run : undefined;
    }, 45_000, 250);
    expect(done.status, JSON.stringify(done.steps)).toBe('completed');

    const step = (sid: string) => done.steps.find((s) => s.id === sid);
    expect(step('first')).toMatchObject({ status: 'completed', result: { x: 'one', host: 'jo-jobs' } });
    const fan = step('fan');
    expect(fan?.status).toBe('completed');
    expect(fan?.hosts.map((h) => [h.host, h.status, h.result?.x, h.findings]).sort()).toEqual([['jo-jobs', 'completed', 'one-fan', 1], ['jo-tunnel', 'completed', 'one-fan', 1]]);

    // Each run went the way its host can be reached: the pinned step and the jobs host through the bucket.
    const routes = new Map<string, string | undefined>();
    for (const s of [step('first'), fan]) {
      for (const h of s?.hosts ?? []) routes.set(`${s?.id}/${h.host}`, routeOf(await runView(cp, h.run_id as string)));
    }
    expect(Object.fromEntries(routes)).toEqual({ 'first/jo-jobs': 'jobs', 'fan/jo-jobs': 'jobs', 'fan/jo-tunnel': 'tunnel' });
  }, 120_000);
});
