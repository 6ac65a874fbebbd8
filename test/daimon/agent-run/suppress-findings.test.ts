import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAgentPipeline } from '../../../daimon/agent-run/agent-pipeline.js';
import { parsePolicy } from '../../../daimon/policy/load-policy.js';
import { createProviderSet } from '../../../daimon/providers/provider-set.js';
import { executeRun } from '../../../daimon/run-executor.js';
import { createSecretStore } from '../../../daimon/secrets/secret-store.js';
import { createToolbox } from '../../../daimon/tools/toolbox.js';
import { formatSpecError, parseAgent } from '../../../src/specs/parse-agent.js';
import type { HostPolicy } from '../../../src/specs/policy-spec.js';
import { memoryLogger, recorder } from '../run-helpers.js';

// The pipeline drops what the host policy's suppress: list covers — rule findings and the provider's own — before
// they are relayed, and reports the count per entry once, before run_end. A provider cannot forge that report.

const NOW = Date.UTC(2026, 11, 5);
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'okesu-suppress-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const PROVIDER_LINES = [
  { type: 'finding', severity: 'medium', title: 'Model says 42 is odd', resource: 'n:42' },
  { type: 'finding', severity: 'medium', title: 'Model says 7 is odd', resource: 'n:7' },
  { type: 'findings_suppressed', count: 99, by: [] },
].map((l) => JSON.stringify(l)).join('\\n');

const parsed = parseAgent([
  '---',
  'name: probe',
  `command: [sh, -c, ${JSON.stringify(`printf '${PROVIDER_LINES}\\n'`)}]`,
  'collectors:',
  '  - { name: nums, command: \'printf "3\\n9\\n12\\n"\' }',
  'rules:',
  '  - name: big',
  '    collector: nums',
  "    match: '^(?<n>\\d+)$'",
  '    finding: { severity: high, title: "Number {{n}}", resource: "n:{{n}}, pid:{{n}}" }',
  '---',
  'Count.',
  '',
].join('\n'), 'probe.md');
if (!parsed.ok) throw new Error(parsed.errors.map(formatSpecError).join('\n'));
const probe = parsed.agent;

function policy(yaml: string): HostPolicy {
  const r = parsePolicy(yaml, 'policy.yaml', NOW);
  if (!r.ok) throw new Error(r.errors.map(formatSpecError).join('\n'));
  return r.policy;
}

async function run(p: HostPolicy, log = memoryLogger()) {
  const { events, emit } = recorder();
  const env = { PATH: process.env.PATH };
  const pipeline = createAgentPipeline({
    policy: p, stateDir: join(dir, 'state'), providerFor: createProviderSet({ secrets: createSecretStore(env), maxRetries: 0 }),
    toolboxFor: (a, q) => createToolbox(a, q), env, now: () => NOW,
  });
  const status = await executeRun({
    runId: 'r_01JD0000000000000000000000', hostname: 'web-1', agent: probe, prompt: 'check', inputs: {}, timeoutMs: 30_000,
    signal: new AbortController().signal, provider: pipeline(), emit, log, now: () => NOW,
  });
  return { status, events, log };
}

describe('suppressions in the pipeline', () => {
  it('drops covered rule and provider findings, reports them per entry before run_end, and renames a forged report', async () => {
    const r = await run(policy([
      'suppress:',
      '  - agent: probe',
      '    rule: big',
      "    match: { resource: 'n:9' }",
      '    reason: nine is expected here',
      '    expires: 2027-01-01',
      '  - agent: prob?',
      "    match: { title: 'Model says 42 *' }",
      '    reason: the model is wrong about 42',
      '    expires: 2026-12-31',
      '  - agent: probe',
      "    match: { resource: 'n:3' }",
      '    reason: expired',
      '    expires: 2026-12-01',
    ].join('\n')));
    expect(r.status).toBe('completed');
    expect(r.events.filter((e) => e.type === 'finding').map((e) => e.title)).toEqual(['Number 3', 'Number 12', 'Model says 7 is odd']);
    expect(r.events.find((e) => e.type === 'provider_findings_suppressed')).toMatchObject({ count: 99 });
    expect(r.events.slice(-2)).toEqual([
      {
        type: 'findings_suppressed', count: 2, by: [
          { entry: 0, at: 'policy.yaml:2', agent: 'probe', rule: 'big', reason: 'nine is expected here', expires: '2027-01-01', count: 1 },
          { entry: 1, at: 'policy.yaml:7', agent: 'prob?', reason: 'the model is wrong about 42', expires: '2026-12-31', count: 1 },
        ],
      },
      expect.objectContaining({ type: 'run_end', status: 'completed', findings: 3 }),
    ]);
    expect(r.log.lines.filter((l) => l.level === 'warn').map((l) => [l.msg, (l.obj as { suppression?: string }).suppression])).toEqual([
      ['host policy suppression has expired and no longer suppresses; renew or remove it', 'suppress[2] (policy.yaml:11) probe'],
    ]);
  });

  it('reports nothing when nothing was suppressed', async () => {
    const r = await run(policy('suppress:\n  - agent: other\n    rule: big\n    reason: r\n    expires: 2027-01-01'));
    expect(r.events.filter((e) => e.type === 'finding')).toHaveLength(5);
    expect(r.events.some((e) => e.type === 'findings_suppressed')).toBe(false);
  });
});
