import type WebSocket from 'ws';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import type { OrchestrationRunView } from '../../src/protocol/orchestration-api.js';
import { send } from './fake-stream-server.js';
import { NOW, testDeps } from './helpers.js';
import { FakeCp, orchRunView, stepHost, stepView } from './orchestrate-fake-cp.js';

const ID = 'o_01JD0000000000000000000000';

/** The views of a triage run as the engine moves it: scan runs and completes, contain waits for approval, then runs and completes. */
function triageViews(): Record<'started' | 'approval' | 'approved' | 'completed', OrchestrationRunView> {
  const scanRunning = stepView({ status: 'running', prompt: 'check process 4242', hosts: [stepHost('web-01', 'running')], started_at: NOW });
  const scanDone = { ...scanRunning, status: 'completed' as const, hosts: [stepHost('web-01', 'completed', { result: { verdict: 'malicious' } })], result: { verdict: 'malicious' }, ended_at: NOW + 5000 };
  const contain = stepView({ id: 'contain', agent: 'forensic-collector', prompt: 'snapshot web-01' });
  return {
    started: orchRunView({ steps: [scanRunning, contain] }),
    approval: orchRunView({ status: 'approval_required', updated_at: NOW + 5000, steps: [scanDone, { ...contain, status: 'waiting_approval' }] }),
    approved: orchRunView({ updated_at: NOW + 9000, steps: [scanDone, { ...contain, status: 'running', hosts: [stepHost('web-01', 'running')], decided_by: 'alice' }] }),
    completed: orchRunView({
      status: 'completed', updated_at: NOW + 20_000, ended_at: NOW + 20_000,
      steps: [scanDone, { ...contain, status: 'completed', hosts: [stepHost('web-01', 'completed')], decided_by: 'alice' }],
    }),
  };
}

describe('okesu orchestrate run --wait', () => {
  const cp = new FakeCp();
  let stream: WebSocket | undefined;
  let cursor = 0;
  const push = (run: OrchestrationRunView): void => send(stream as WebSocket, { type: 'orchestration_run', cursor: ++cursor, run });

  beforeEach(async () => {
    await cp.start();
    stream = undefined;
    cp.server.scripts = [
      (ws) => {
        stream = ws;
        send(ws, { type: 'ready', cursor });
      },
    ];
  });
  afterEach(() => cp.stop());

  it('follows the live stream: prints each step transition, waits through the approval gate, exits 0 when completed', async () => {
    const views = triageViews();
    cp.routes.set('POST /v1/orchestration-runs', () => {
      // The first transitions may reach the stream before the answer reaches the CLI: it must keep them.
      setImmediate(() => {
        push(orchRunView({ id: 'o_other', status: 'failed', updated_at: NOW + 1 }));
        push(views.approval);
        push({ ...views.approval, updated_at: NOW + 6000 }); // the same gate again: no second notice
      });
      return { status: 201, body: views.started };
    });
    const deps = testDeps();
    const done = runCli(['orchestrate', 'run', 'c2-callback-triage', '--input', 'host=web-01', '--wait', '--config', cp.configFile], deps);
    await vi.waitFor(() => expect(deps.stderr.text()).toContain('waits for approval of step contain'), { timeout: 10_000 });
    push(views.approved);
    push(views.completed);

    expect(await done).toBe(0);
    expect(deps.stdout.lines()).toEqual([
      'step scan running on web-01',
      'step scan completed: {"verdict":"malicious"}',
      'step contain waiting for approval: snapshot web-01',
      'step contain running on web-01',
      'step contain completed',
    ]);
    const err = deps.stderr.text();
    expect(err.match(/waits for approval/g)).toHaveLength(1);
    expect(err).toContain(`okesu orchestrate approve ${ID} contain`);
    expect(err).toContain(`okesu: orchestration run ${ID} completed in 20s`);
    expect(cp.server.upgrades[0]?.searchParams.get('kinds')).toBe('orchestration_run');
    // Everything came over the stream: no polling.
    expect(cp.calls()).toEqual(['POST /v1/orchestration-runs']);
  });

  it('exits 3 when the run fails; --json prints the final view on stdout and the transitions on stderr', async () => {
    const failed = orchRunView({
      status: 'failed', updated_at: NOW + 3000, ended_at: NOW + 3000, error: 'step sweep failed: web-02 failed',
      steps: [
        stepView({ id: 'sweep', status: 'failed', hosts: [stepHost('web-01', 'completed'), stepHost('web-02', 'failed', { error: 'timed out after 5m' })], error: 'web-02 failed' }),
        stepView({ id: 'snapshot', status: 'skipped' }),
      ],
    });
    cp.routes.set('POST /v1/orchestration-runs', () => {
      setImmediate(() => push(failed));
      return { status: 201, body: orchRunView({ steps: [stepView({ id: 'sweep', status: 'running', hosts: [stepHost('web-01', 'running'), stepHost('web-02', 'running')] }), stepView({ id: 'snapshot' })] }) };
    });
    const deps = testDeps();
    const code = await runCli(['orchestrate', 'run', 'fleet-ioc-sweep', '--input', 'ioc=1.2.3.4', '--wait', '--json', '--config', cp.configFile], deps);
    expect(code).toBe(3);
    expect(JSON.parse(deps.stdout.text())).toEqual(failed);
    const err = deps.stderr.lines();
    expect(err).toContain('step sweep running on web-01, web-02');
    expect(err).toContain('step sweep: web-01 completed');
    expect(err).toContain('step sweep: web-02 failed: timed out after 5m');
    expect(err).toContain('step sweep failed: web-02 failed');
    expect(err).toContain('step snapshot skipped');
    expect(err.at(-1)).toBe(`okesu: orchestration run ${ID} failed in 3s: step sweep failed: web-02 failed`);
  });

  it('polls every second when the stream is refused, and still exits 0 on completion', async () => {
    cp.server.scripts = Array.from({ length: 50 }, () => ({ status: 400, body: { error: { code: 'OKS_ERR_BAD_REQUEST', message: 'kinds: unknown kind' } } }));
    const views = triageViews();
    const answers = [views.approval, views.approval, views.completed];
    cp.routes.set('POST /v1/orchestration-runs', () => ({ status: 201, body: views.started }));
    cp.routes.set(`GET /v1/orchestration-runs/${ID}`, () => ({ status: 200, body: answers.length > 1 ? answers.shift() : answers[0] }));
    const deps = testDeps();
    const code = await runCli(['orchestrate', 'run', 'c2-callback-triage', '--wait', '--config', cp.configFile], deps);
    expect(code).toBe(0);
    expect(deps.stderr.text()).toMatch(/live stream not available \(.*OKS_ERR_BAD_REQUEST.*\); polling every 1000 ms/);
    expect(deps.stdout.lines()).toEqual([
      'step scan running on web-01',
      'step scan completed: {"verdict":"malicious"}',
      'step contain waiting for approval: snapshot web-01',
      'step contain completed',
    ]);
    expect(cp.calls().filter((c) => c.startsWith('GET')).length).toBe(3);
  }, 20_000);

  it('a stop (SIGINT) ends the wait with exit 1 and says the run goes on', async () => {
    cp.routes.set('POST /v1/orchestration-runs', () => ({ status: 201, body: triageViews().started }));
    const stop = new AbortController();
    const deps = testDeps({ signal: stop.signal });
    const done = runCli(['orchestrate', 'run', 'c2-callback-triage', '--wait', '--config', cp.configFile], deps);
    await vi.waitFor(() => expect(deps.stdout.lines()).toEqual(['step scan running on web-01']), { timeout: 10_000 });
    stop.abort();
    expect(await done).toBe(1);
    expect(deps.stderr.text()).toContain(`stopped following; the run goes on (okesu orchestrate show ${ID})`);
  });
});
