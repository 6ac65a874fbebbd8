import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostView } from '../../src/protocol/api.js';
import type { StoredFinding } from '../../src/protocol/finding.js';
import { claudeError, claudeText, startFakeAnthropic } from '../support/fake-anthropic-server.js';
import type { FakeAnthropic } from '../support/fake-anthropic-server.js';
import { okesuJson, runOkesu, spawnOkesu, startCp, stop, tempDir, waitFor, type OkesuProcess } from './harness.js';

const KEY = 'sk-ant-api03-E2EsecretXkey0123456789abcdefXYZ';
const MARK = '[REDACTED:ANTHROPIC_API_KEY]';

const procs: OkesuProcess[] = [];
let server: FakeAnthropic;
beforeEach(async () => {
  server = await startFakeAnthropic();
});
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => stop(p, 'SIGKILL')));
  await server.close();
});

/** Every byte of every file under `dir`, as one string. */
function allBytes(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), 'latin1'))
    .join('\n');
}

/** A secrets file (0600) with the key and the fake API's URL. */
function secretsFile(dir: string): string {
  const path = join(dir, 'okesu.secrets');
  writeFileSync(path, `# test keys\nANTHROPIC_API_KEY=${KEY}\nANTHROPIC_BASE_URL=${server.baseURL}\n`, { mode: 0o600 });
  return path;
}

/** Agents that try to leak the key: a custom one with the key written into its command, and a claude one. */
function leakyAgents(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const finding = JSON.stringify({ type: 'finding', severity: 'high', title: `found ${KEY}`, resource: `key:${KEY}`, evidence: [KEY], attributes: { [KEY]: KEY } });
  writeFileSync(
    join(dir, 'leak-key.md'),
    [
      '---', 'name: leak-key', 'version: 1.0.0', 'provider: custom', 'timeout: 1m', 'command: |',
      `  printf '%s\\n' '${finding}'`,
      `  echo "the key is ${KEY}"`,
      `  echo "stderr ${KEY}" >&2`,
      // Whether the daimon's own environment still held the key when it started this process.
      '  if [ -n "$ANTHROPIC_API_KEY$ANTHROPIC_BASE_URL$OKESU_JOIN_TOKEN" ]; then echo ENV_HAS_SECRETS; else echo ENV_CLEAN; fi',
      '---', 'Leaks the key it was written with.', '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'ask-claude.md'), ['---', 'name: ask-claude', 'version: 1.0.0', 'provider: claude', 'timeout: 1m', '---', 'Check the host.', ''].join('\n'));
  return dir;
}

describe('provider keys stay on the host (SPEC §4.1, §11)', () => {
  it('a daimon with --secrets-file keeps the key out of its environment, sends it to the API, and scrubs it from everything it relays and logs', async () => {
    const root = tempDir('secrets');
    const agents = leakyAgents(join(root, 'agents'));
    const state = join(root, 'daimon');
    // An agent that prints the daimon's own credential and private key.
    writeFileSync(
      join(agents, 'leak-identity.md'),
      ['---', 'name: leak-identity', 'version: 1.0.0', 'provider: custom', 'timeout: 1m', 'command: |', `  cat ${state}/identity.json ${state}/key.pem`, '---', 'Leaks.', ''].join('\n'),
    );
    const cp = await startCp(join(root, 'cp'), 0, ['--agents', agents]);
    procs.push(cp.proc);
    const token = (await runOkesu(['token', 'create', '--join'], cp.env)).stdout.trim();
    // The join token through the environment (as documented, to keep it out of ps), the key only in the file.
    const daimon = spawnOkesu(['daemon', '--cp', cp.url, '--state', state, '--hostname', 'sec-01', '--secrets-file', secretsFile(root)], { OKESU_JOIN_TOKEN: token });
    procs.push(daimon);
    await waitFor('sec-01 online', async () => (await okesuJson<HostView[]>(['hosts'], cp.env)).some((h) => h.hostname === 'sec-01' && h.connected));

    const environ = readFileSync(`/proc/${daimon.child.pid}/environ`, 'latin1');
    expect(environ).not.toContain(KEY);
    expect(environ).not.toContain('ANTHROPIC_API_KEY');

    // A custom agent prints the key in a finding, on stdout and on stderr.
    const leak = await runOkesu(['run', 'leak-key', '--host', 'sec-01', '--wait', '--json'], cp.env);
    expect(leak.code, leak.stderr).toBe(0);
    expect(leak.stdout).not.toContain(KEY);
    const events = leak.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.find((e) => e.type === 'finding')).toMatchObject({ title: `found ${MARK}`, resource: `key:${MARK}`, evidence: [MARK], attributes: { [MARK]: MARK } });
    expect(events.filter((e) => e.type === 'text').map((e) => e.text)).toEqual(expect.arrayContaining([`the key is ${MARK}`, `stderr ${MARK}`, 'ENV_CLEAN']));
    const findings = await okesuJson<StoredFinding[]>(['findings', '--host', 'sec-01'], cp.env);
    expect(findings.map((f) => f.title)).toEqual([`found ${MARK}`]);

    // The claude provider gets the key from the store: the fake API sees it, and what the API echoes back is scrubbed.
    server.enqueue(claudeText(`your key is ${KEY}`));
    const ask = await runOkesu(['run', 'ask-claude', '--host', 'sec-01', '--wait', '--json'], cp.env);
    expect(ask.code, ask.stderr).toBe(0);
    const headers = server.requests[0]?.headers ?? {};
    expect(headers['x-api-key'] ?? headers.authorization).toMatch(new RegExp(`^(Bearer )?${KEY}$`));
    expect(ask.stdout).toContain(`your key is ${MARK}`);
    // An API error that echoes the key (a proxy might) is scrubbed as well.
    server.enqueue(claudeError(401, 'authentication_error', `invalid x-api-key ${KEY}`));
    const refused = await runOkesu(['run', 'ask-claude', '--host', 'sec-01', '--wait', '--json'], cp.env);
    expect(refused.stdout).toContain('api_unavailable');
    expect(refused.stdout).not.toContain(KEY);

    // The daimon's credential and private key, printed by an agent, arrive as markers.
    const ident = await runOkesu(['run', 'leak-identity', '--host', 'sec-01', '--wait', '--json'], cp.env);
    expect(ident.code, ident.stderr).toBe(0);
    expect(ident.stdout).toContain('[REDACTED:OKESU_HOST_CREDENTIAL]');
    expect(ident.stdout).toContain('[REDACTED:OKESU_HOST_KEY]');
    const keyLines = readFileSync(join(state, 'key.pem'), 'utf8').split('\n').filter((l) => l.length >= 8 && !l.startsWith('-----'));
    for (const line of keyLines) expect(ident.stdout).not.toContain(line);

    await stop(daimon);
    await stop(cp.proc);
    // Nothing the CP stored, nothing in the daimon's spool, and no log line of either, holds the key.
    expect(allBytes(join(root, 'cp'))).not.toContain(KEY);
    expect(allBytes(state)).not.toContain(KEY);
    const logs = `${daimon.stdoutLines.join('\n')}\n${daimon.stderr()}`;
    expect(logs).toContain('custom provider started');
    expect(logs).not.toContain(KEY);
    expect(logs).not.toContain(token.split('_')[2]);
    const credential = (JSON.parse(readFileSync(join(state, 'identity.json'), 'utf8')) as { credential: string }).credential;
    expect(logs).not.toContain(credential.split('_')[2]);
    expect(ident.stdout).not.toContain(credential.split('_')[2]);
  });

  it('a daimon given the key in its environment takes it out before it starts anything', async () => {
    const root = tempDir('secrets-env');
    const agents = leakyAgents(join(root, 'agents'));
    const cp = await startCp(join(root, 'cp'), 0, ['--agents', agents]);
    procs.push(cp.proc);
    const token = (await runOkesu(['token', 'create', '--join'], cp.env)).stdout.trim();
    const daimon = spawnOkesu(['daemon', '--cp', cp.url, '--state', join(root, 'daimon'), '--hostname', 'sec-02'], {
      OKESU_JOIN_TOKEN: token, ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: server.baseURL,
    });
    procs.push(daimon);
    await waitFor('sec-02 online', async () => (await okesuJson<HostView[]>(['hosts'], cp.env)).some((h) => h.hostname === 'sec-02' && h.connected));
    const leak = await runOkesu(['run', 'leak-key', '--host', 'sec-02', '--wait', '--json'], cp.env);
    expect(leak.code, leak.stderr).toBe(0);
    expect(leak.stdout).toContain('ENV_CLEAN');
    expect(leak.stdout).not.toContain(KEY);
  });

  it('okesu agents run --local prints the marker, never the key, and refuses a secrets file others can read', async () => {
    const root = tempDir('secrets-local');
    const agents = leakyAgents(join(root, 'agents'));
    const file = secretsFile(root);
    const args = ['agents', 'run', join(agents, 'leak-key.md'), '--local', '--state-dir', join(root, 'state'), '--json'];
    const run = await runOkesu([...args, '--secrets-file', file]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`found ${MARK}`);
    expect(`${run.stdout}${run.stderr}`).not.toContain(KEY);

    writeFileSync(join(root, 'loose.secrets'), `ANTHROPIC_API_KEY=${KEY}\n`, { mode: 0o644 });
    const loose = await runOkesu([...args, '--secrets-file', join(root, 'loose.secrets')]);
    expect(loose.code).not.toBe(0);
    expect(loose.stderr).toContain(`secrets file ${join(root, 'loose.secrets')}: mode 0644`);
    expect(loose.stderr).not.toContain(KEY);
  });
});
