import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RawData } from 'ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { orchestrationRunViewSchema } from '../../src/protocol/orchestration-api.js';
import { hello, record, startCp, waitFor, type CpHarness, type TestSocket } from '../cp/cp-harness.js';
import { testDeps } from './helpers.js';

const SPEC = `name: cli-journey
inputs:
  host: { type: string, required: true }
steps:
  - id: scan
    agent: edr-investigator
    node: "{{trigger.host}}"
    prompt: "look at {{trigger.host}}"
  - id: contain
    agent: forensic-collector
    node: "{{trigger.host}}"
    when: "{{scan.result.verdict == 'malicious'}}"
    approval: required
    prompt: "snapshot because {{scan.result.summary}}"
`;

describe('okesu orchestrate against a real CP', () => {
  let h: CpHarness;
  let tunnel: TestSocket;
  let file: string;

  beforeAll(async () => {
    h = await startCp();
    tunnel = await h.connectHost(await h.registerHost('web-01'), { hello: false });
    tunnel.send(hello());
    // A daimon that runs every dispatch at once: the scan says "malicious", the snapshot says it collected.
    tunnel.ws.on('message', (data: RawData) => {
      const frame = JSON.parse(String(data)) as { type: string; envelope?: { run_id: string; agent: string } };
      if (frame.type !== 'dispatch' || !frame.envelope) return;
      const { run_id: id, agent } = frame.envelope;
      const attributes = agent === 'edr-investigator' ? { verdict: 'malicious', summary: 'a reverse shell' } : { collected: 9 };
      tunnel.send({ type: 'dispatch_ack', run_id: id, accepted: true });
      tunnel.send({
        type: 'events',
        records: [record(id, 0, { type: 'run_start' }, agent), record(id, 1, { type: 'orchestration_result', attributes }, agent), record(id, 2, { type: 'run_end', status: 'completed' }, agent)],
      });
    });
    await waitFor(async () => (await h.admin.hosts()).every((v) => v.connected), 5000, 'web-01 up');
    file = join(mkdtempSync(join(tmpdir(), 'okesu-orch-cp-')), 'cli-journey.yaml');
    writeFileSync(file, SPEC);
  });
  afterAll(() => h.close());

  function okesu(argv: string[], signal?: AbortSignal) {
    const deps = testDeps({ env: { OKESU_CONFIG: join(h.stateDir, 'admin.yaml') }, now: Date.now, ...(signal && { signal }) });
    return { deps, done: runCli(argv, deps) };
  }

  it('applies, runs with --wait through an approval given from another command, and shows the result', async () => {
    const applied = okesu(['orchestrate', 'apply', file]);
    expect(await applied.done).toBe(0);
    expect(applied.deps.stdout.text()).toMatch(/cli-journey\s+scan,contain\s+manual/);

    const waiting = okesu(['orchestrate', 'run', 'cli-journey', '--input', 'host=web-01', '--wait']);
    await vi.waitFor(() => expect(waiting.deps.stderr.text()).toContain('waits for approval of step contain'), { timeout: 15_000 });
    const runId = /run (\S+) waits for approval/.exec(waiting.deps.stderr.text())?.[1] as string;

    const approve = okesu(['orchestrate', 'approve', runId, 'contain', '--reason', 'confirmed']);
    expect(await approve.done).toBe(0);
    expect(await waiting.done).toBe(0);
    expect(waiting.deps.stdout.lines()).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^step scan (running on web-01|completed)/),
        'step scan completed: {"verdict":"malicious","summary":"a reverse shell"}',
        'step contain waiting for approval: snapshot because a reverse shell',
        'step contain completed: {"collected":9}',
      ]),
    );

    const shown = okesu(['orchestrate', 'show', runId, '--json']);
    expect(await shown.done).toBe(0);
    const view = orchestrationRunViewSchema.parse(JSON.parse(shown.deps.stdout.text()));
    expect(view.status).toBe('completed');
    expect(view.steps.map((s) => [s.id, s.status, s.prompt])).toEqual([
      ['scan', 'completed', 'look at web-01'],
      ['contain', 'completed', 'snapshot because a reverse shell'],
    ]);

    const runs = okesu(['orchestrate', 'runs']);
    expect(await runs.done).toBe(0);
    expect(runs.deps.stdout.text()).toMatch(new RegExp(`${runId}\\s+\\S+\\s+cli-journey\\s+completed`));
  }, 30_000);

  it('labels a host through the CP', async () => {
    const labelled = okesu(['hosts', 'label', 'web-01', 'env=prod', 'role=web']);
    expect(await labelled.done).toBe(0);
    expect(labelled.deps.stdout.text()).toBe('web-01: env=prod,role=web\n');
    const removed = okesu(['hosts', 'label', 'web-01', '--remove', 'role', '--json']);
    expect(await removed.done).toBe(0);
    expect((JSON.parse(removed.deps.stdout.text()) as { labels: Record<string, string> }).labels).toEqual({ env: 'prod' });
  });
});
