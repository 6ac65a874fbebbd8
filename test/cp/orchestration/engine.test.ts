import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCp, type CpHarness } from '../cp-harness.js';
import { fakeDaimons, start, stepOf, waitRun, type Answer } from './orch-helpers.js';
import type { DispatchEnvelope } from '../../../src/protocol/dispatch.js';

let h: CpHarness;
beforeEach(async () => {
  h = await startCp();
});
afterEach(async () => {
  await h.close();
});

/** Echoes `x` and the prompt as the result; fails where inputs.fail_on names the host. */
const echo = (env: DispatchEnvelope, host: string): Answer =>
  env.inputs['fail_on'] === host ? { status: 'failed', error: `asked to fail on ${host}` } : { result: { x: env.inputs['x'] ?? null, host, prompt: env.prompt } };

describe('orchestration engine: steps in order', () => {
  it('passes step 1’s result into step 2 with {{step1.result.x}} and completes', async () => {
    const [web] = await fakeDaimons(h, ['web-01'], echo);
    const yaml = `
name: two-step
inputs: { host: { type: string, required: true } }
steps:
  - id: scan
    agent: edr
    node: "{{trigger.host}}"
    prompt: scan it
    inputs: { x: "ioc-42" }
  - id: follow
    agent: edr
    node: web-01
    prompt: "follow up on {{scan.result.x}} from {{scan.result.host}} ({{scan.status}})"
`;
    const begun = await start(h, { spec: yaml, inputs: { host: 'web-01' } });
    expect(begun.status).toBe('running');
    expect(stepOf(begun, 'scan').hosts[0]?.host).toBe('web-01');
    const run = await waitRun(h, begun.id);
    expect(run.status).toBe('completed');
    expect(run.error).toBeNull();
    expect(stepOf(run, 'scan')).toMatchObject({ status: 'completed', result: { x: 'ioc-42', host: 'web-01' } });
    const follow = stepOf(run, 'follow');
    expect(follow.status).toBe('completed');
    expect(follow.prompt).toBe('follow up on ioc-42 from web-01 (completed)');
    expect(web?.envelopes[1]?.prompt).toBe('follow up on ioc-42 from web-01 (completed)');
    expect(follow.hosts).toEqual([expect.objectContaining({ host: 'web-01', status: 'completed', run_id: web?.envelopes[1]?.run_id })]);
    expect(run.trigger).toEqual({ host: 'web-01' });
  });

  it('skips a step whose when is false and runs the next', async () => {
    const [web] = await fakeDaimons(h, ['web-01'], () => ({ result: { verdict: 'benign' } }));
    const run = await waitRun(h, (await start(h, { spec: `
name: gated
steps:
  - { id: scan, agent: edr, node: web-01 }
  - { id: contain, agent: edr, node: web-01, when: "{{scan.result.verdict == 'c2_callback'}}" }
  - { id: report, agent: edr, node: web-01, prompt: "contain was {{contain.status}}" }
` })).id);
    expect(run.status).toBe('completed');
    expect(stepOf(run, 'contain')).toMatchObject({ status: 'skipped', prompt: null, hosts: [] });
    expect(stepOf(run, 'report').prompt).toBe('contain was skipped');
    expect(web?.envelopes).toHaveLength(2);
  });

  it('fails a step whose when cannot be evaluated, naming the expression', async () => {
    await fakeDaimons(h, ['web-01'], () => ({ result: { n: 'text' } }));
    const run = await waitRun(h, (await start(h, { spec: `
name: bad-when
steps:
  - { id: scan, agent: edr, node: web-01 }
  - { id: next, agent: edr, node: web-01, when: "scan.result.n > 3" }
` })).id);
    expect(run.status).toBe('failed');
    expect(stepOf(run, 'next').error).toContain('scan.result.n > 3');
    expect(run.error).toMatch(/^step next failed/);
  });

  it('fans out, records each host, fails the step naming the failed and unknown hosts, and skips the rest', async () => {
    const daimons = await fakeDaimons(h, ['web-01', 'web-02', 'web-03'], echo);
    const run = await waitRun(h, (await start(h, { spec: `
name: sweep
steps:
  - id: sweep
    agent: edr
    nodes: [web-01, web-02, web-03, ghost-09]
    inputs: { fail_on: web-02, x: "1" }
  - { id: after, agent: edr, node: web-01 }
` })).id);
    const sweep = stepOf(run, 'sweep');
    expect(sweep.status).toBe('failed');
    expect(sweep.hosts.map((x) => [x.host, x.status])).toEqual([['web-01', 'completed'], ['web-02', 'failed'], ['web-03', 'completed'], ['ghost-09', 'failed']]);
    expect(sweep.hosts[1]?.error).toBe('agent run failed: asked to fail on web-02');
    expect(sweep.hosts[3]?.error).toMatch(/unknown host ghost-09/);
    expect(sweep.hosts[3]?.run_id).toBeNull();
    expect(sweep.error).toMatch(/failed on 2 of 4 hosts: web-02 \(.*\), ghost-09/);
    // merged in target order: the last host with a result wins a shared key
    expect(sweep.result).toMatchObject({ x: '1', host: 'web-03' });
    expect(stepOf(run, 'after').status).toBe('skipped');
    expect(run.status).toBe('failed');
    expect(daimons.map((d) => d.envelopes.length)).toEqual([1, 1, 1]);
  });

  it('continues past a failed step with continue_on_error and completes the run', async () => {
    await fakeDaimons(h, ['web-01', 'web-02'], echo);
    const run = await waitRun(h, (await start(h, { spec: `
name: tolerant
steps:
  - { id: sweep, agent: edr, nodes: [web-01, web-02], inputs: { fail_on: web-01 }, continue_on_error: true }
  - { id: summary, agent: edr, node: web-02, prompt: "{{sweep.status}} {{sweep.byNode['web-02'].status}} {{sweep.nodes | length}}" }
` })).id);
    expect(stepOf(run, 'sweep').status).toBe('failed');
    expect(stepOf(run, 'summary')).toMatchObject({ status: 'completed', prompt: 'failed completed 2' });
    expect(run.status).toBe('completed');
  });

  it('fails a host whose daimon refuses the dispatch, with the daimon’s reason', async () => {
    await fakeDaimons(h, ['web-01'], () => ({ refuse: 'no agent edr here' }));
    const run = await waitRun(h, (await start(h, { spec: 'name: refused\nsteps:\n  - { id: a, agent: edr, node: web-01 }\n' })).id);
    expect(run.status).toBe('failed');
    expect(stepOf(run, 'a').hosts[0]?.error).toBe('agent run failed: OKS_ERR_AGENT_UNKNOWN: no agent edr here');
  });

  it('fails a host no transport reaches (registered, no tunnel) without failing its siblings', async () => {
    await fakeDaimons(h, ['web-01'], echo);
    await h.registerHost('web-02');
    const run = await waitRun(h, (await start(h, { spec: 'name: partial\nsteps:\n  - { id: a, agent: edr, nodes: [web-01, web-02], continue_on_error: true }\n' })).id);
    const a = stepOf(run, 'a');
    expect(a.hosts.map((x) => x.status)).toEqual(['completed', 'failed']);
    expect(a.hosts[1]?.error).toMatch(/web-02 is not reachable/);
  });

  it('gives the step’s findings to later steps and counts them per host', async () => {
    await fakeDaimons(h, ['web-01'], (env) =>
      env.prompt === 'find' ? { findings: [{ title: 'bad proc', resource: 'pid:7' }, { severity: 'LOW', title: 'meh' }] } : { result: {} },
    );
    const run = await waitRun(h, (await start(h, { spec: `
name: finds
steps:
  - { id: scan, agent: edr, node: web-01, prompt: find }
  - { id: next, agent: edr, node: "{{(scan.findings | first).host}}", prompt: "{{scan.findings | length}} {{(scan.findings | first).title}} {{(scan.findings | first).severity}}" }
` })).id);
    expect(stepOf(run, 'scan').hosts[0]?.findings).toBe(2);
    expect(stepOf(run, 'next').prompt).toBe('2 bad proc HIGH');
    expect(run.status).toBe('completed');
  });

  it('resolves nodes_selector against labels, operator labels included; no match fails the step', async () => {
    await fakeDaimons(h, ['db-01', 'web-01', 'web-02'], echo, (host) => (host.startsWith('web') ? { env: 'prod' } : { env: 'dev' }));
    const labelled = await h.request('PUT', '/v1/hosts/web-02/labels', { json: { set: { tier: 'edge' }, remove: ['env'] } });
    expect(labelled.status).toBe(200);
    expect((labelled.body as { labels: Record<string, string> }).labels).toEqual({ tier: 'edge' });
    const prod = await waitRun(h, (await start(h, { spec: 'name: sel\nsteps:\n  - { id: a, agent: edr, nodes_selector: "label:env=prod" }\n' })).id);
    expect(stepOf(prod, 'a').hosts.map((x) => x.host)).toEqual(['web-01']);
    const edge = await waitRun(h, (await start(h, { spec: 'name: sel\nsteps:\n  - { id: a, agent: edr, nodes_selector: "label:tier=edge" }\n' })).id);
    expect(stepOf(edge, 'a').hosts.map((x) => x.host)).toEqual(['web-02']);
    const none = await waitRun(h, (await start(h, { spec: 'name: sel\nsteps:\n  - { id: a, agent: edr, nodes_selector: "label:env=qa" }\n' })).id);
    expect(none.status).toBe('failed');
    expect(stepOf(none, 'a').error).toBe('no host matches label:env=qa');
  });
});
