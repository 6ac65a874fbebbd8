import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HostView, RunView } from '../../src/protocol/api.js';
import { okesuJson, spawnOkesu, stop, tempDir, waitFor, type OkesuProcess } from './harness.js';

// `okesu demo --jobs-hosts N` shows jobs mode with nothing installed: its jobs-mode hosts register through an
// in-process bucket shared with the embedded CP, poll it, and run what the CP writes there.
let demo: OkesuProcess | undefined;
afterAll(async () => stop(demo));

describe('okesu demo --jobs-hosts', () => {
  it('runs jobs-mode hosts that register through the embedded bucket, show as jobs, and run a dispatch sent through it', async () => {
    const state = tempDir('demo-jobs');
    demo = spawnOkesu(['demo', '--json', '--state', state, '--jobs-hosts', '2']);
    const proc = demo;
    await waitFor('the demo to start', () => {
      if (proc.child.exitCode !== null) throw new Error(`demo exited: ${proc.stderr()}`);
      return /2 jobs-mode hosts/.test(proc.stderr());
    }, 60_000);
    const env = { OKESU_CONFIG: join(state, 'cp', 'admin.yaml') };
    const hosts = await waitFor('both jobs hosts online', async () => {
      const all = await okesuJson<HostView[]>(['hosts'], env);
      const jobs = all.filter((h) => h.hostname.startsWith('job-'));
      return jobs.length === 2 && jobs.every((h) => h.state === 'online') && jobs;
    }, 30_000, 250);
    expect(hosts.map((h) => [h.hostname, h.transport, h.path, h.poll_ms])).toEqual([
      ['job-001', 'jobs', 'jobs', 2000],
      ['job-002', 'jobs', 'jobs', 2000],
    ]);
    const started = await okesuJson<RunView>(['run', '--host', 'job-002', 'sim-check'], env);
    expect(started).toMatchObject({ host: 'job-002', route: 'jobs' });
    const ended = await waitFor('the run to complete', async () => {
      const run = await okesuJson<RunView>(['runs', 'show', started.run_id], env);
      return run.status !== 'dispatched' && run.status !== 'running' && run;
    }, 30_000, 250);
    expect(ended.status).toBe('completed');
  });
});
