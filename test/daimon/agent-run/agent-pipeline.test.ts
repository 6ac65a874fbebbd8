import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAgentPipeline } from '../../../daimon/agent-run/agent-pipeline.js';
import type { PipelineRunOptions } from '../../../daimon/agent-run/agent-pipeline.js';
import { createProviderSet } from '../../../daimon/providers/provider-set.js';
import { createSecretStore } from '../../../daimon/secrets/secret-store.js';
import { executeRun } from '../../../daimon/run-executor.js';
import { createToolbox } from '../../../daimon/tools/toolbox.js';
import type { EventBody } from '../../../src/protocol/event.js';
import { fingerprintFinding } from '../../../src/protocol/fingerprint.js';
import type { AgentSpec } from '../../../src/specs/agent-spec.js';
import { formatSpecError, parseAgent } from '../../../src/specs/parse-agent.js';
import { EMPTY_POLICY } from '../../../src/specs/policy-spec.js';
import type { HostPolicy } from '../../../src/specs/policy-spec.js';
import { fixture, memoryLogger, recorder } from '../run-helpers.js';

const RUN_ID = 'r_01JD0000000000000000000000';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'okesu-pipeline-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function agent(front: string[], body = 'You watch {{host}}; threshold {{inputs.limit}}.'): AgentSpec {
  const parsed = parseAgent(`---\n${front.join('\n')}\n---\n${body}\n`, 'probe.md');
  if (!parsed.ok) throw new Error(parsed.errors.map(formatSpecError).join('\n'));
  return parsed.agent;
}

/** A custom agent whose command echoes its stdin (the run JSON) as one event, with collectors and rules. */
const probe = (extra: string[] = []): AgentSpec =>
  agent([
    'name: probe',
    `command: [node, ${JSON.stringify(fixture('echo-stdin.mjs'))}]`,
    'inputs: { limit: 5, lines: [a] }',
    'dedupeTtl: 1h',
    'collectors:',
    '  - { name: nums, command: \'printf "%s\\n" "$OKESU_INPUT_LINES"\' }',
    '  - { name: gone, command: "echo no such tool >&2; exit 77", optional: true }',
    '  - { name: broken, command: "echo boom >&2; exit 3", optional: true }',
    'rules:',
    '  - name: big',
    '    collector: nums',
    "    match: '^(?<n>\\d+)$'",
    "    threshold: { capture: n, op: '>', value: '{{inputs.limit}}' }",
    '    finding: { severity: high, title: "Number {{n}} is big", resource: "n:{{n}}", dedup_key: "big:{{n}}" }',
    '  - name: new-word',
    '    collector: nums',
    "    match: '^(?<w>[a-z]+)$'",
    '    new_since: last_run',
    '    finding: { severity: low, title: "New word {{w}}", resource: "word:{{w}}" }',
    ...extra,
  ]);

async function run(spec: AgentSpec, opts: { inputs?: Record<string, unknown>; policy?: HostPolicy; env?: NodeJS.ProcessEnv; run?: PipelineRunOptions } = {}) {
  const { events, emit } = recorder();
  const policy = opts.policy ?? EMPTY_POLICY;
  const env = { PATH: process.env.PATH, ...opts.env };
  const pipeline = createAgentPipeline({
    policy, stateDir: join(dir, 'state'), providerFor: createProviderSet({ secrets: createSecretStore(env), maxRetries: 0 }),
    toolboxFor: (a, p) => createToolbox(a, p), env,
  });
  const status = await executeRun({
    ...(opts.run?.tick && { tick: opts.run.tick }),
    runId: RUN_ID, hostname: 'web-1', agent: spec, prompt: 'check', inputs: opts.inputs ?? {}, timeoutMs: 30_000,
    signal: new AbortController().signal, provider: pipeline(opts.run), emit, log: memoryLogger(),
  });
  return { status, events, types: events.map((e) => e.type) };
}

const findings = (events: EventBody[]) => events.filter((e) => e.type === 'finding').map((e) => e.title);
const echo = (events: EventBody[]) => events.find((e) => e.type === 'stdin_echo') as { received: Record<string, unknown>; env: Record<string, string> } | undefined;

describe('agent pipeline', () => {
  it('runs collectors, then rules, then the provider with the rendered prompt and the collector output', async () => {
    const r = await run(probe(), { inputs: { lines: ['3', '9', 'cat'] } });
    expect(r.status, JSON.stringify(r.events)).toBe('completed');
    expect(r.types).toEqual(['run_start', 'collector_result', 'collector_result', 'collector_result', 'finding', 'stdin_echo', 'run_end']);
    const collectors = r.events.filter((e) => e.type === 'collector_result');
    expect(collectors.map((c) => [c.name, Boolean(c.skipped), c.error !== undefined])).toEqual([['nums', false, false], ['gone', true, false], ['broken', false, true]]);
    // Only the threshold rule reports on a first run; the last_run rule records its baseline.
    expect(findings(r.events)).toEqual(['Number 9 is big']);
    const input = echo(r.events)?.received;
    expect(input?.system).toBe('You watch web-1; threshold 5.');
    expect(input?.inputs).toEqual({ limit: 5, lines: ['3', '9', 'cat'] });
    expect(input?.collectors).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'nums', output: '3\n9\ncat\n' })]));
    // The collector output reaches the model as a fenced data block naming its source.
    expect(String(input?.prompt)).toMatch(/check[\s\S]*nums[\s\S]*```+text\n3\n9\ncat\n/);
    expect(r.events.at(-1)).toMatchObject({ type: 'run_end', status: 'completed', findings: 1 });
  });

  it('remembers across ticks: last_run reports only new lines, dedup drops a repeat within dedupeTtl', async () => {
    const tick = (n: number) => ({ tick: { tick: n, scheduledAt: n } });
    await run(probe(), { inputs: { lines: ['9', 'cat'] }, run: tick(1) });
    const second = await run(probe(), { inputs: { lines: ['9', 'cat', 'dog'] }, run: tick(2) });
    expect(findings(second.events)).toEqual(['New word dog']);
    const third = await run(probe(), { inputs: { lines: ['9', 'cat', 'dog', '12'] }, run: tick(3) });
    expect(findings(third.events)).toEqual(['Number 12 is big']);
    expect(third.events.at(-1)).toMatchObject({ findings: 1 });
  });

  it('a tick sends one problem under three pids as three findings of one fingerprint, and the next tick none', async () => {
    const spec = probe([
      '  - name: payload',
      '    collector: nums',
      "    match: '^p(?<pid>\\d+)$'",
      '    finding: { severity: high, title: "Payload running", resource: "binary:/x, pid:{{pid}}", dedup_key: "payload:/x" }',
    ]);
    const tick = (n: number) => ({ tick: { tick: n, scheduledAt: n } });
    const first = await run(spec, { inputs: { lines: ['p1', 'p2', 'p3'] }, run: tick(1) });
    const sent = first.events.filter((e) => e.type === 'finding') as unknown as Parameters<typeof fingerprintFinding>[0][];
    expect(sent.map((f) => f.resource)).toEqual(['binary:/x, pid:1', 'binary:/x, pid:2', 'binary:/x, pid:3']);
    expect(new Set(sent.map((f) => fingerprintFinding(f))).size).toBe(1);
    const second = await run(spec, { inputs: { lines: ['p1', 'p2', 'p4'] }, run: tick(2) });
    expect(findings(second.events)).toEqual([]);
  });

  it('does not dedup a dispatched run: it reports everything it finds now', async () => {
    await run(probe(), { inputs: { lines: ['9'] }, run: { tick: { tick: 1, scheduledAt: 1 } } });
    const dispatched = await run(probe(), { inputs: { lines: ['9'] } });
    expect(findings(dispatched.events)).toEqual(['Number 9 is big']);
  });

  it('frames a scheduled run with tick_start and tick_done', async () => {
    const r = await run(probe(), { inputs: { lines: ['7'] }, run: { tick: { tick: 4, scheduledAt: 123 } } });
    expect(r.types[1]).toBe('tick_start');
    expect(r.events[1]).toMatchObject({ tick: 4, scheduled_at: 123 });
    expect(r.events.at(-2)).toMatchObject({ type: 'tick_done', tick: 4, status: 'completed', findings: 1 });
  });

  it('fails a run whose inputs do not fit the declared types, before running anything', async () => {
    const r = await run(probe(), { inputs: { limit: 'lots' } });
    expect(r.status).toBe('failed');
    expect(r.types).toEqual(['run_start', 'error', 'run_end']);
    expect(String(r.events[1]?.message)).toMatch(/limit/);
  });

  describe('host policy', () => {
    const policy = (deny: Partial<HostPolicy['deny']>): HostPolicy => ({ ...EMPTY_POLICY, source: 'policy.yaml', deny: { ...EMPTY_POLICY.deny, ...deny } });

    it('refuses a denied agent before any collector runs', async () => {
      const marker = join(dir, 'ran');
      const spec = agent(['name: probe', 'command: ["true"]', 'collectors:', `  - { name: touch, command: "touch ${marker}" }`]);
      const r = await run(spec, { policy: policy({ agents: [{ pattern: 'pro*', reason: 'not here' }] }) });
      expect(r.status).toBe('failed');
      expect(r.types).toEqual(['run_start', 'action_denied', 'run_end']);
      expect(existsSync(marker)).toBe(false);
    });

    it('does not run a collector or a custom command the policy denies', async () => {
      const marker = join(dir, 'ran');
      const spec = agent(['name: probe', `command: "touch ${marker}-cmd"`, 'collectors:', `  - { name: touch, command: "touch ${marker}" }`]);
      const r = await run(spec, { policy: policy({ commands: [{ pattern: '*touch*' }] }) });
      expect(r.status).toBe('failed');
      expect(r.events.find((e) => e.type === 'collector_result')?.error).toMatch(/denied by host policy/);
      expect(r.events.find((e) => e.type === 'action_denied')).toMatchObject({ tool: 'command', by: 'policy' });
      expect(existsSync(marker)).toBe(false);
      expect(existsSync(`${marker}-cmd`)).toBe(false);
    });
  });

  it('with no API key: api_unavailable, the rules still report, and the run completes', async () => {
    const spec = agent([
      'name: watcher', 'provider: claude', 'collectors: [{ name: words, command: "echo evil" }]',
      'rules:', "  - { name: evil, collector: words, match: '^evil$', finding: { severity: critical, title: Evil word } }",
    ]);
    const r = await run(spec, { env: { ANTHROPIC_API_KEY: '' } });
    expect(r.status).toBe('completed');
    expect(r.types).toEqual(['run_start', 'collector_result', 'finding', 'api_unavailable', 'run_end']);
    expect(r.events.at(-1)).toMatchObject({ status: 'completed', findings: 1 });
  });
});
