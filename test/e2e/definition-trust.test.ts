import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { HostView, RunView } from '../../src/protocol/api.js';
import { okesuJson, runOkesu, spawnOkesu, startCp, stop, tempDir, waitFor, type CpProcess, type OkesuProcess } from './harness.js';

// A CP and two daimons with real policy files: one accepts no CP definitions, one only signed ones.
const procs: OkesuProcess[] = [];
const dir = tempDir('trust');
let cp: CpProcess;
let operatorEnv: NodeJS.ProcessEnv;
let trustedKey: string;
let untrustedKey: string;

/** An ad-hoc agent whose custom command prints one finding: it runs only if the host accepted the definition. */
const agentFile = (name: string, title: string): string => {
  const path = join(dir, `${name}-${title}.md`);
  const finding = JSON.stringify({ type: 'finding', severity: 'low', category: 'config', title, resource: 'file:/x', dedup_key: title });
  writeFileSync(path, `---\nname: ${name}\nprovider: custom\ntimeout: 1m\ncommand: ["/bin/echo", ${JSON.stringify(finding)}]\n---\nAd hoc.\n`);
  return path;
};

const policyFile = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, 0o644);
  return path;
};

/** `okesu run FILE --host HOST --wait` as the admin: exit code, stderr, and the run record it created. */
async function runOn(host: string, file: string): Promise<{ code: number | null; stderr: string; run?: RunView }> {
  const before = new Set((await okesuJson<RunView[]>(['runs', '--host', host], cp.env)).map((r) => r.run_id));
  const r = await runOkesu(['run', file, '--host', host, '--wait'], cp.env);
  const runs = await okesuJson<RunView[]>(['runs', '--host', host], cp.env);
  return { code: r.code, stderr: r.stderr, run: runs.find((run) => !before.has(run.run_id)) };
}

beforeAll(async () => {
  cp = await startCp(tempDir('cp'));
  procs.push(cp.proc);
  const admin = parseYaml(readFileSync(join(cp.stateDir, 'admin.yaml'), 'utf8')) as Record<string, unknown>;
  const operator = (await runOkesu(['token', 'create', '--role', 'operator', '--name', 'olga'], cp.env)).stdout.trim();
  const operatorConfig = join(dir, 'operator.yaml');
  writeFileSync(operatorConfig, stringifyYaml({ ...admin, token: operator }), { mode: 0o600 });
  operatorEnv = { OKESU_CONFIG: operatorConfig };

  trustedKey = join(dir, 'release.key');
  untrustedKey = join(dir, 'other.key');
  const pub = (await runOkesu(['agents', 'keygen', '--out', trustedKey])).stdout.trim();
  await runOkesu(['agents', 'keygen', '--out', untrustedKey]);
  const policies = {
    'closed-01': policyFile('closed.yaml', 'cp_definitions: false\n'),
    'signed-01': policyFile('signed.yaml', `cp_definitions: signed\ntrusted_agent_keys:\n  - { key: "${pub}", name: release }\n`),
  };
  for (const [host, policy] of Object.entries(policies)) {
    const token = (await runOkesu(['token', 'create', '--join'], cp.env)).stdout.trim();
    procs.push(spawnOkesu(['daemon', '--cp', cp.url, '--token', token, '--state', join(dir, host), '--hostname', host, '--policy', policy]));
  }
  await waitFor('both daimons online', async () => (await okesuJson<HostView[]>(['hosts'], cp.env)).filter((h) => h.connected).length === 2);
}, 60_000);
afterAll(async () => {
  await Promise.all(procs.splice(0).map((p) => stop(p, 'SIGTERM')));
});

describe('who may send agent definitions, and which ones a host runs (SPEC §11)', () => {
  it('refuses an operator token’s ad-hoc definition with 403 saying why, before anything is dispatched', async () => {
    const file = agentFile('adhoc', 'operator-tried');
    const r = await runOkesu(['run', file, '--host', 'signed-01', '--wait'], operatorEnv);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/OKS_ERR_FORBIDDEN: .*operator token "olga" sent its own definition of agent adhoc.*need an admin token/);
    expect(await okesuJson<RunView[]>(['runs', '--host', 'signed-01'], cp.env)).toEqual([]);
  });

  it('cp_definitions: false refuses a definition the CP sends, with the policy’s reason as the run’s error', async () => {
    const r = await runOn('closed-01', agentFile('adhoc', 'closed'));
    expect(r.code).toBe(3);
    expect(r.run).toMatchObject({ status: 'failed', findings: 0 });
    expect(r.run?.error).toMatch(/^OKS_ERR_POLICY_DENIED: .*closed\.yaml accepts no agent definitions from the CP/);
  });

  it('cp_definitions: signed refuses unsigned, untrusted and tampered definitions with OKS_ERR_SIGNATURE_INVALID', async () => {
    const unsigned = agentFile('adhoc', 'unsigned');
    const untrusted = agentFile('adhoc', 'untrusted');
    expect((await runOkesu(['agents', 'sign', untrusted, '--key', untrustedKey])).code).toBe(0);
    const tampered = agentFile('adhoc', 'tampered');
    expect((await runOkesu(['agents', 'sign', tampered, '--key', trustedKey])).code).toBe(0);
    writeFileSync(tampered, readFileSync(tampered, 'utf8').replace('Ad hoc.', 'Ad hoc!'));
    for (const [file, why] of [[unsigned, /is not signed/], [untrusted, /only by keys this host does not trust/], [tampered, /by release does not match the definition: it was changed after signing/]] as const) {
      const r = await runOn('signed-01', file);
      expect(r.code, file).toBe(3);
      expect(r.run).toMatchObject({ status: 'failed', findings: 0 });
      expect(r.run?.error).toMatch(/^OKS_ERR_SIGNATURE_INVALID: .*signed\.yaml accepts only agent definitions signed by a key it trusts/);
      expect(r.run?.error).toMatch(why);
    }
  });

  it('runs a definition signed by a trusted key, sent by an admin', async () => {
    const good = agentFile('adhoc', 'signed-ok');
    expect((await runOkesu(['agents', 'sign', good, '--key', trustedKey])).code).toBe(0);
    expect((await runOkesu(['agents', 'verify', good, '--key', `${trustedKey}.pub`])).code).toBe(0);
    const r = await runOn('signed-01', good);
    expect(r.code, r.stderr).toBe(0);
    expect(r.run).toMatchObject({ status: 'completed', findings: 1 });
    const audit = await okesuJson<Array<{ action: string; role: string; detail: Record<string, unknown> }>>(['audit'], cp.env);
    expect(audit.find((e) => e.action === 'run.dispatch')).toMatchObject({ role: 'admin', detail: { definition: { source: 'ad-hoc', by_role: 'admin' } } });
  });
});
