import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { pino } from 'pino';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../../../src/cli/context.js';
import { FATAL_EXIT_CODE, collectLabel, registerDaemon } from '../../../src/cli/commands/daemon.js';
import { createControlPlane } from '../../../src/cp/cp-server.js';
import type { ControlPlane } from '../../../src/cp/cp-server.js';
import { clientConfigSchema } from '../../../src/protocol/client-config.js';
import { createOperatorClient } from '../../../src/transport/operator-client.js';
import type { OperatorClient } from '../../../src/transport/operator-client.js';
import { loadIdentity } from '../../../daimon/identity.js';
import { testDeps } from '../../cli/helpers.js';
import { eventually, tempDir } from './helpers.js';

/** Runs `okesu daemon ARGS` in-process; resolves with the exit code and what went to stderr. */
async function daemon(args: string[], signal?: AbortSignal, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stderr: string }> {
  const deps = testDeps({ signal, env });
  const program = new Command('okesu');
  registerDaemon(program, createContext(deps));
  for (const cmd of [program, ...program.commands]) {
    cmd.exitOverride().configureOutput({ writeOut: (t) => void deps.stdout.write(t), writeErr: (t) => void deps.stderr.write(t) });
  }
  try {
    await program.parseAsync(['daemon', '--log-level', 'silent', ...args], { from: 'user' });
    return { code: 0, stderr: deps.stderr.text() };
  } catch (err) {
    if (err instanceof CommanderError) return { code: err.exitCode, stderr: deps.stderr.text() };
    throw err;
  }
}

let cp: ControlPlane;
let url: string;
let client: OperatorClient;

beforeAll(async () => {
  const state = tempDir('cmd-cp');
  cp = createControlPlane({ stateDir: state, host: '127.0.0.1', port: 0, heartbeatIntervalMs: 200, livenessFlushMs: 50, version: 'test' }, { log: pino({ level: 'silent' }) });
  url = (await cp.start()).url;
  client = createOperatorClient(clientConfigSchema.parse(parseYaml(readFileSync(join(state, 'admin.yaml'), 'utf8'))));
});
afterAll(async () => {
  await cp.stop();
});

describe('okesu daemon', () => {
  it('fails with OKS_ERR_CONFIG when there is neither an identity nor a token', async () => {
    const r = await daemon(['--state', tempDir('empty'), '--cp', url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('okesu: OKS_ERR_CONFIG: configuration is missing or invalid: no identity in');
  });

  it('exits non-zero with the CP’s message when the join token is used up', async () => {
    const { token } = await client.createToken({ kind: 'join', uses: 1 });
    const first = new AbortController();
    const running = daemon(['--cp', url, '--token', token, '--state', tempDir('a'), '--hostname', 'cmd-a'], first.signal);
    await eventually(async () => (await client.hosts()).find((h) => h.hostname === 'cmd-a' && h.connected), 15_000, 'cmd-a online');
    first.abort();
    expect(await running).toEqual({ code: 0, stderr: '' });

    const again = await daemon(['--cp', url, '--token', token, '--state', tempDir('b'), '--hostname', 'cmd-b']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('okesu: OKS_ERR_TOKEN_EXHAUSTED: token has no uses left');
  });

  it(`exits ${FATAL_EXIT_CODE} with the message on stderr when the host is removed`, async () => {
    const { token } = await client.createToken({ kind: 'join', uses: 1 });
    const state = tempDir('c');
    const running = daemon(['--cp', url, '--token', token, '--state', state, '--hostname', 'cmd-c', '--label', 'env=prod']);
    await eventually(async () => (await client.hosts()).find((h) => h.hostname === 'cmd-c' && h.connected), 15_000, 'cmd-c online');
    expect(loadIdentity(state)?.hostname).toBe('cmd-c');
    await client.removeHost('cmd-c');
    const r = await running;
    expect(r.code).toBe(FATAL_EXIT_CODE);
    expect(r.stderr).toContain('okesu: OKS_ERR_HOST_REVOKED: this host was removed from the CP');
  });

  it('refuses a secrets file group or others can read, before it writes anything, and names the file and its mode', async () => {
    const dir = tempDir('secrets');
    const file = join(dir, 'okesu.secrets');
    writeFileSync(file, 'ANTHROPIC_API_KEY=sk-ant-api03-cmd-0123456789\n', { mode: 0o640 });
    chmodSync(file, 0o640);
    const state = join(dir, 'state');
    const r = await daemon(['--cp', url, '--token', 'okj_x', '--state', state, '--secrets-file', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`OKS_ERR_CONFIG: configuration is missing or invalid: secrets file ${file}: mode 0640`);
    expect(r.stderr).not.toContain('sk-ant-api03-cmd');
    expect(existsSync(state)).toBe(false);
  });

  it('takes the provider settings and the join token out of its environment before anything else', async () => {
    const env: NodeJS.ProcessEnv = { PATH: '/usr/bin', ANTHROPIC_API_KEY: 'sk-ant-api03-cmd-0123456789', OPENAI_BASE_URL: 'http://127.0.0.1:1/v1', OKESU_JOIN_TOKEN: 'okj_not-a-token' };
    const r = await daemon(['--cp', url, '--state', tempDir('env')], undefined, env);
    expect(r.code).toBe(1);
    expect(env).toEqual({ PATH: '/usr/bin' });
  });

  it.each(['novalue', '=x', 'bad key=1', `k=${'v'.repeat(257)}`])('refuses the label %j', (label) => {
    expect(() => collectLabel(label, {})).toThrow();
  });
});
