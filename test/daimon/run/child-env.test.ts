import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAgentPipeline } from '../../../daimon/agent-run/agent-pipeline.js';
import { createCustomProvider } from '../../../daimon/providers/custom-provider.js';
import { executeRun } from '../../../daimon/run-executor.js';
import { DEFAULT_PATH, buildChildEnv, passedEnvNames } from '../../../daimon/run/child-env.js';
import { createToolbox } from '../../../daimon/tools/toolbox.js';
import type { EventBody } from '../../../src/protocol/event.js';
import { formatSpecError, parseAgent } from '../../../src/specs/parse-agent.js';
import { EMPTY_POLICY } from '../../../src/specs/policy-spec.js';
import { memoryLogger } from '../run-helpers.js';

/** What a daimon's environment may hold: a few ordinary variables and the credentials that must never leave it. */
const DAIMON_ENV = {
  PATH: process.env.PATH ?? DEFAULT_PATH,
  HOME: '/var/lib/okesu',
  LANG: 'C.UTF-8',
  LC_TIME: 'en_GB.UTF-8',
  TZ: 'UTC',
  ANTHROPIC_API_KEY: 'sk-ant-leak-me-not',
  OPENAI_API_KEY: 'sk-oai-leak-me-not',
  OKESU_JOIN_TOKEN: 'okj-leak-me-not',
  AWS_SECRET_ACCESS_KEY: 'aws-leak-me-not',
  NODE_OPTIONS: '--require /tmp/evil.js',
  HTTPS_PROXY: 'http://proxy.internal:3128',
  KUBECONFIG: '/root/.kube/config',
};
const SECRETS = ['sk-ant-leak-me-not', 'sk-oai-leak-me-not', 'okj-leak-me-not', 'aws-leak-me-not'];

describe('buildChildEnv', () => {
  it('keeps the allowlist and nothing else', () => {
    expect(buildChildEnv(DAIMON_ENV)).toEqual({ PATH: DAIMON_ENV.PATH, HOME: '/var/lib/okesu', LANG: 'C.UTF-8', LC_TIME: 'en_GB.UTF-8', TZ: 'UTC' });
  });

  it('adds the names passed that the daimon has, and the run’s own variables, which win', () => {
    const env = buildChildEnv(DAIMON_ENV, ['HTTPS_PROXY', 'NOT_SET'], { OKESU_RUN_ID: 'r_1', HOME: '/run-home' });
    expect(env).toMatchObject({ HTTPS_PROXY: 'http://proxy.internal:3128', OKESU_RUN_ID: 'r_1', HOME: '/run-home' });
    expect(env).not.toHaveProperty('NOT_SET');
  });

  it('gives a standard PATH when the daimon has none', () => {
    expect(buildChildEnv({})).toEqual({ PATH: DEFAULT_PATH });
  });

  it.each(['LC_ALL', 'LC_CTYPE'])('keeps locale variable %s', (name) => {
    expect(buildChildEnv({ [name]: 'C' })).toHaveProperty(name, 'C');
  });
});

describe('passedEnvNames', () => {
  it('passes what the agent asks for and the policy allows; the rest is refused', () => {
    expect(passedEnvNames({ env: ['HTTPS_PROXY', 'KUBECONFIG'] }, { passEnv: ['HTTPS_PROXY', 'ANTHROPIC_API_KEY'] })).toEqual({ passed: ['HTTPS_PROXY'], refused: ['KUBECONFIG'] });
  });
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'okesu-env-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the environment of a run’s processes, with credentials in the daimon’s', () => {
  async function runEnvAgent(front: string[], passEnv: string[]): Promise<{ events: EventBody[]; log: ReturnType<typeof memoryLogger> }> {
    const parsed = parseAgent(`---\n${front.join('\n')}\n---\nbody\n`, 'probe.md');
    if (!parsed.ok) throw new Error(parsed.errors.map(formatSpecError).join('\n'));
    const events: EventBody[] = [];
    const log = memoryLogger();
    const pipeline = createAgentPipeline({
      policy: { ...EMPTY_POLICY, passEnv }, stateDir: join(dir, 'state'), env: DAIMON_ENV,
      providerFor: () => createCustomProvider(),
      toolboxFor: (a, p, run) => createToolbox(a, p, run),
    });
    const status = await executeRun({
      runId: 'r_envtest', hostname: 'web-1', agent: parsed.agent, prompt: 'p', inputs: {}, timeoutMs: 30_000,
      signal: new AbortController().signal, provider: pipeline(), log, emit: async (e) => void events.push(e),
    });
    expect(status).toBe('completed');
    return { events, log };
  }

  const printed = (events: EventBody[]): string[] => [
    ...events.filter((e) => e.type === 'text').map((e) => String(e.text)),
    ...events.filter((e) => e.type === 'collector_result').flatMap((e) => String(e.output).split('\n')),
  ];

  it('a custom command and a collector that print their environment show no credential of the daimon', async () => {
    const { events } = await runEnvAgent(['name: probe', 'command: [env]', 'collectors: [{ name: env, command: env, emit_output: true }]'], []);
    const lines = printed(events);
    expect(lines).toEqual(expect.arrayContaining(['OKESU_RUN_ID=r_envtest', 'OKESU_AGENT=probe', 'OKESU_HOST=web-1', 'LANG=C.UTF-8']));
    for (const secret of SECRETS) expect(JSON.stringify(events)).not.toContain(secret);
    expect(lines.filter((l) => /^(ANTHROPIC|OPENAI|AWS|OKESU_JOIN|NODE_OPTIONS|HTTPS_PROXY|KUBECONFIG)/.test(l))).toEqual([]);
  });

  it('a variable the agent asks for and the policy passes reaches both; one the policy does not pass does not', async () => {
    const { events, log } = await runEnvAgent(
      ['name: probe', 'command: [env]', 'env: [HTTPS_PROXY, KUBECONFIG]', 'collectors: [{ name: env, command: env, emit_output: true }]'],
      ['HTTPS_PROXY', 'ANTHROPIC_API_KEY'],
    );
    const lines = printed(events);
    expect(lines.filter((l) => l.startsWith('HTTPS_PROXY='))).toEqual(['HTTPS_PROXY=http://proxy.internal:3128', 'HTTPS_PROXY=http://proxy.internal:3128']);
    expect(lines.filter((l) => l.startsWith('KUBECONFIG='))).toEqual([]);
    // The policy passing a key the agent never asked for gives it to no one.
    for (const secret of SECRETS) expect(JSON.stringify(events)).not.toContain(secret);
    expect(log.lines).toContainEqual(expect.objectContaining({ level: 'warn', obj: expect.objectContaining({ names: ['KUBECONFIG'] }) }));
  });
});
