import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import WebSocket from 'ws';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createControlPlane } from '../../../src/cp/cp-server.js';
import type { ControlPlane } from '../../../src/cp/cp-server.js';
import type { RunView } from '../../../src/protocol/api.js';
import { clientConfigSchema } from '../../../src/protocol/client-config.js';
import { newId } from '../../../src/protocol/ids.js';
import { createOperatorClient } from '../../../src/transport/operator-client.js';
import type { OperatorClient } from '../../../src/transport/operator-client.js';
import { createDaimon } from '../../../daimon/daimon.js';
import type { Daimon } from '../../../daimon/daimon.js';
import { loadIdentity } from '../../../daimon/identity.js';
import { INTERRUPTED_MESSAGE } from '../../../daimon/run-registry.js';
import { captureLogger, eventually, tempDir } from './helpers.js';

const HOST = 'it-host';
/** A credential in the daimon's environment: no process it starts may see it. */
const DAIMON_SECRET = 'it-aws-secret-value';
const TERMINAL = new Set(['completed', 'failed', 'timeout', 'cancelled']);

/** An agent file; `command` is an argv list. */
const agentFile = (name: string, fields: string): string => `---\nname: ${name}\nversion: "2.0.0"\n${fields}\n---\nYou are a test agent.\n`;
const nodeAgent = (name: string, script: string): string => agentFile(name, `command: ${JSON.stringify(['node', '-e', script])}`);

const FINDINGS_SCRIPT = `
let input = '';
process.stdin.on('data', (d) => (input += d)).on('end', () => {
  const run = JSON.parse(input);
  const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
  out({ type: 'text', text: 'prompt=' + run.prompt });
  out({ type: 'finding', severity: 'high', title: 'Listener on 4444', category: 'network', resource: 'port:4444', evidence: ['tcp 0.0.0.0:4444 LISTEN'], dedup_key: 'listen:4444' });
});`;

let stateDir: string;
let cp: ControlPlane;
let client: OperatorClient;
let daimonState: string;
let daimon: Daimon | undefined;
const fatal: { code: string; message: string }[] = [];
let joinToken = '';
const logs = captureLogger();

function startDaimon(opts: { token?: string }): Promise<void> {
  const localAgents = join(daimonState, 'agents');
  daimon = createDaimon(
    {
      stateDir: daimonState, cp: cpUrl, token: opts.token, hostname: HOST, agentDirs: [localAgents], builtinAgents: false,
      labels: { env: 'it' }, version: '1.0.0', tunnel: { backoffBaseMs: 50, backoffCapMs: 500 },
    },
    // No model keys on this host, whatever the machine running the tests has.
    { log: logs.log, onFatal: (code, message) => fatal.push({ code, message }), env: { PATH: process.env.PATH, AWS_SECRET_ACCESS_KEY: DAIMON_SECRET } },
  );
  return daimon.start();
}

let cpUrl: string;

/** Sends a tick's run_start over a tunnel of this host's identity, as a daimon that then died would have. */
async function announceTick(runId: string, agent: string): Promise<void> {
  const id = loadIdentity(daimonState);
  if (!id) throw new Error('no identity');
  const ws = new WebSocket(`${cpUrl.replace(/^https/, 'wss')}/v1/tunnel`, { key: id.keyPem, cert: id.certPem, ca: id.caPem, headers: { authorization: `Bearer ${id.credential}` } });
  try {
    const acked = new Promise<void>((resolve, reject) => {
      ws.on('message', (data: Buffer) => {
        const frame = JSON.parse(data.toString('utf8')) as { type: string };
        if (frame.type === 'welcome') {
          ws.send(JSON.stringify({ type: 'events', records: [{ run_id: runId, seq: 1, event: { type: 'run_start', trigger: 'tick', ts: Date.now(), agent } }] }));
        } else if (frame.type === 'ack') resolve();
      });
      ws.on('error', reject);
    });
    await acked;
  } finally {
    ws.terminate();
  }
}

const finished = (id: string): Promise<RunView> =>
  eventually(async () => {
    const run = await client.getRun(id);
    return TERMINAL.has(run.status) ? run : undefined;
  }, 20_000, `run ${id} to end`);
const online = (): Promise<unknown> =>
  eventually(async () => (await client.hosts()).find((h) => h.hostname === HOST && h.state === 'online' && h.connected), 15_000, `${HOST} online`);

beforeAll(async () => {
  stateDir = tempDir('cp');
  cp = createControlPlane(
    { stateDir, host: '127.0.0.1', port: 0, heartbeatIntervalMs: 200, livenessFlushMs: 50, version: 'test' },
    { log: pino({ level: 'silent' }) },
  );
  cpUrl = (await cp.start()).url;
  const config = clientConfigSchema.parse(parseYaml(readFileSync(join(stateDir, 'admin.yaml'), 'utf8')));
  client = createOperatorClient(config);
  daimonState = tempDir('state');
  mkdirSync(join(daimonState, 'agents'));
  writeFileSync(join(daimonState, 'agents', 'probe.md'), nodeAgent('probe', `console.log(JSON.stringify({ type: 'text', text: 'the host copy' }))`));
  writeFileSync(join(daimonState, 'agents', 'slow.md'), agentFile('slow', 'timeout: 2s\ncommand: [sleep, "60"]'));
});

afterAll(async () => {
  await daimon?.stop();
  await cp.stop();
});

describe('daimon against a real control plane', () => {
  it('registers with a join token and shows up online with its facts', async () => {
    const { token } = await client.createToken({ kind: 'join', uses: 1 });
    joinToken = token;
    await startDaimon({ token });
    expect(daimon?.hostname()).toBe(HOST);
    await online();
    const host = (await client.hosts()).find((h) => h.hostname === HOST);
    expect(host).toMatchObject({ version: '1.0.0', os: process.platform, arch: process.arch, transport: expect.any(String), labels: { env: 'it' } });
  });

  it('runs a dispatched custom agent: the transcript and the finding are stored at the CP', async () => {
    const run = await client.createRun({ agent: 'it-findings', host: HOST, prompt: 'look around', definition: nodeAgent('it-findings', FINDINGS_SCRIPT) });
    const done = await finished(run.run_id);
    expect(done).toMatchObject({ status: 'completed', findings: 1, error: null });
    const page = await client.runEvents(run.run_id, 0, 0);
    expect(page.events.map((e) => e.type)).toEqual(['run_start', 'text', 'finding', 'run_end']);
    expect(page.events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(page.events[1]).toMatchObject({ text: 'prompt=look around', host: HOST, agent: 'it-findings', agent_version: '2.0.0' });
    const { findings } = await client.findings({ host: HOST });
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ severity: 'HIGH', title: 'Listener on 4444', agent: 'it-findings', agent_version: '2.0.0', run_id: run.run_id, host: HOST });
  });

  it('prefers the host’s own agent over the definition the CP sends', async () => {
    const run = await client.createRun({ agent: 'probe', host: HOST, definition: nodeAgent('probe', `console.log(JSON.stringify({ type: 'text', text: 'the CP copy' }))`) });
    expect((await finished(run.run_id)).status).toBe('completed');
    const texts = (await client.runEvents(run.run_id, 0, 0)).events.filter((e) => e.type === 'text').map((e) => e.text);
    expect(texts).toEqual(['the host copy']);
  });

  it.each([
    ['an unknown agent', { agent: 'nowhere' }, 'OKS_ERR_AGENT_UNKNOWN'],
    ['an invalid definition', { agent: 'broken', definition: agentFile('broken', 'provider: telepathy') }, 'OKS_ERR_AGENT_INVALID'],
  ])('refuses %s and the run ends failed', async (_name, req, code) => {
    const run = await client.createRun({ host: HOST, ...req });
    const done = await finished(run.run_id);
    expect(done.status).toBe('failed');
    expect(done.error).toContain(code);
    const events = await eventually(async () => {
      const page = await client.runEvents(run.run_id, 0, 0);
      return page.events.length === 3 ? page.events : undefined;
    }, 10_000, 'the refusal transcript');
    expect(events.map((e) => e.type)).toEqual(['run_start', 'error', 'run_end']);
    expect(events[2]).toMatchObject({ status: 'failed' });
  });

  it('runs an agent by name under the timeout of the host’s own agent file when the operator set none', async () => {
    const run = await client.createRun({ agent: 'slow', host: HOST });
    const done = await finished(run.run_id);
    expect(done).toMatchObject({ status: 'timeout', error: 'run exceeded its timeout of 2s', timeout_ms: 2000 });
  });

  it('an operator’s timeout wins over the agent file’s', async () => {
    const run = await client.createRun({ agent: 'it-patient', host: HOST, timeout_ms: 1000, definition: agentFile('it-patient', 'timeout: 1h\ncommand: [sleep, "60"]') });
    expect(await finished(run.run_id)).toMatchObject({ status: 'timeout', error: 'run exceeded its timeout of 1s', timeout_ms: 1000 });
  });

  it('gives the agent’s processes the allowlisted environment, never the daimon’s credentials', async () => {
    const run = await client.createRun({ agent: 'it-env', host: HOST, definition: agentFile('it-env', 'command: [env]\ncollectors: [{ name: env, command: env, emit_output: true }]') });
    expect((await finished(run.run_id)).status).toBe('completed');
    const events = (await client.runEvents(run.run_id, 0, 0)).events;
    const seen = JSON.stringify(events);
    expect(seen).toContain('OKESU_RUN_ID=');
    expect(seen).not.toContain(DAIMON_SECRET);
    expect(seen).not.toContain('AWS_SECRET_ACCESS_KEY');
  });

  it('relays api_unavailable when the host has no API key, and completes', async () => {
    const run = await client.createRun({ agent: 'thinker', host: HOST, definition: agentFile('thinker', 'provider: claude\nmodel: claude-sonnet-4') });
    expect((await finished(run.run_id)).status).toBe('completed');
    const events = (await client.runEvents(run.run_id, 0, 0)).events;
    expect(events.map((e) => e.type)).toEqual(['run_start', 'api_unavailable', 'run_end']);
    expect(events[1]).toMatchObject({ provider: 'claude', error: expect.stringContaining('ANTHROPIC_API_KEY') });
  });

  it('cancels a running run when the CP says so', async () => {
    const run = await client.createRun({ agent: 'sleeper', host: HOST, definition: nodeAgent('sleeper', 'setTimeout(() => {}, 60000)') });
    await eventually(async () => (await client.getRun(run.run_id)).status === 'running', 10_000, 'running');
    await client.cancelRun(run.run_id, 'enough');
    const done = await finished(run.run_id);
    expect(done.status).toBe('cancelled');
    expect(done.error).toBe('enough');
  });

  it('starts again from its state directory without a token, and ends a run the previous process left in flight', async () => {
    await daimon?.stop();
    await eventually(async () => (await client.hosts()).find((h) => h.hostname === HOST && !h.connected), 10_000, 'disconnected');
    // The orphan is a tick whose run_start reached the CP before the daimon died: the CP knows the run.
    const orphan = newId('r');
    await announceTick(orphan, 'probe');
    writeFileSync(join(daimonState, 'runs', `${orphan}.json`), JSON.stringify({ run_id: orphan, agent: 'probe', agent_version: '2.0.0', started_at: Date.now() }));
    await startDaimon({});
    await online();
    const done = await finished(orphan);
    expect(done).toMatchObject({ status: 'failed', error: INTERRUPTED_MESSAGE, host: HOST });
  });

  it('stops for good when an operator removes the host, and never logged a secret', async () => {
    const identity = loadIdentity(daimonState);
    if (!identity) throw new Error('no stored identity');
    await client.removeHost(HOST);
    await eventually(async () => fatal.length > 0, 10_000, 'onFatal');
    expect(fatal[0]?.code).toBe('OKS_ERR_HOST_REVOKED');
    const text = logs.text();
    expect(text).toContain('OKS_ERR_HOST_REVOKED');
    for (const secret of [joinToken, identity.credential, identity.keyPem]) expect(text).not.toContain(secret);
  });
});
