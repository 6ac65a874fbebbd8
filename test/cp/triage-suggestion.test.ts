import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicy } from '../../daimon/policy/load-policy.js';
import { runCli } from '../../src/cli/program.js';
import { triageAnswerSchema } from '../../src/protocol/findings-api.js';
import { formatSpecError } from '../../src/specs/spec-error.js';
import { suppresses } from '../../src/specs/suppress.js';
import { testDeps } from '../cli/helpers.js';
import { asTicks, findingRecord, runId, sendEvents, startCp, type CpHarness } from './cp-harness.js';

// A false positive's triage answer suggests the host policy suppress: entry that would drop it on the host: through
// the API and through `okesu findings triage`, against a real CP. The suggestion parses as policy and covers the finding.

let h: CpHarness;
let operatorToken: string;
beforeAll(async () => {
  h = await startCp();
  operatorToken = (await h.mintOperator('operator', 'alice')).token;
});
afterAll(() => h.close());

const DAY = 24 * 3600_000;
const memfd = (pid: number) => ({
  title: 'Process running from an in-memory (memfd) executable', resource: `binary:/memfd:runc (deleted), pid:${pid}`,
  dedup_key: 'memfd-exe', attributes: { rule: 'memfd-executable', collector: 'processes' },
});

async function ingest(host: string, fields: Record<string, unknown>[]): Promise<number[]> {
  const tunnel = await h.connectHost(await h.registerHost(host));
  const before = new Set((await h.admin.findings({ after_id: 0, limit: 100_000 })).findings.map((f) => f.id));
  const run = runId();
  await sendEvents(tunnel, asTicks(fields.map((f, i) => findingRecord(run, i + 1, f))));
  tunnel.terminate();
  return (await h.admin.findings({ after_id: 0, limit: 100_000 })).findings.filter((f) => !before.has(f.id)).map((f) => f.id);
}

/** The suggestion's YAML read as a host policy: its one entry. */
function asPolicyEntry(yaml: string) {
  const r = parsePolicy(yaml, 'suggested.yaml');
  if (!r.ok) throw new Error(r.errors.map(formatSpecError).join('\n'));
  const [entry] = r.policy.suppress ?? [];
  if (!entry) throw new Error('no suppress entry in the suggestion');
  return entry;
}

describe('false positive triage suggests a host suppression', () => {
  it('answers the entry for the agent, rule and resource root, with the reason and an expiry 90 days on', async () => {
    const [a] = await ingest('web-01', [memfd(101), memfd(202)]);
    const before = Date.now();
    const answer = await h.request('POST', `/v1/findings/${a}/triage`, {
      token: operatorToken, json: { status: 'false_positive', scope: 'group', reason: 'runc starts containers from memfd' },
    });
    expect(answer.status).toBe(200);
    const view = triageAnswerSchema.parse(answer.body);
    expect(view).toMatchObject({ status: 'false_positive', scope: 'group', updated: 2 });
    const s = view.suggested_suppress;
    expect(s).toMatchObject({
      agent: 'edr', rule: 'memfd-executable', match: { resource: '(deleted),binary:/memfd:runc' }, reason: 'runc starts containers from memfd',
    });
    const expires = Date.parse(`${s?.expires}T00:00:00Z`);
    expect(expires).toBeGreaterThan(before + 89 * DAY);
    expect(expires).toBeLessThanOrEqual(before + 90 * DAY);

    const entry = asPolicyEntry(s?.yaml ?? '');
    expect(entry).toMatchObject({ agent: 'edr', rule: 'memfd-executable', reason: 'runc starts containers from memfd', expiresText: s?.expires });
    // It covers the same problem under another pid, and not another memfd binary.
    expect(suppresses(entry, 'edr', memfd(999))).toBe(true);
    expect(suppresses(entry, 'edr', { ...memfd(999), resource: 'binary:/memfd:payload (deleted), pid:999' })).toBe(false);
  });

  it('puts a placeholder where no reason was given, and the title when the finding has no resource', async () => {
    const [id] = await ingest('web-02', [{ title: 'Load 17 over 4 cores', resource: '', attributes: {} }]);
    const view = await h.client(operatorToken).triageFinding(id as number, { status: 'false_positive' });
    expect(view.suggested_suppress).toMatchObject({ agent: 'edr', match: { title: 'Load * over * cores' }, reason: 'TODO: say why these findings are expected on this host' });
    expect(view.suggested_suppress?.rule).toBeUndefined();
    expect(asPolicyEntry(view.suggested_suppress?.yaml ?? '').match).toEqual({ title: 'Load * over * cores' });
  });

  it('suggests nothing for the other statuses', async () => {
    const [id] = await ingest('web-03', [memfd(5)]);
    for (const status of ['acknowledged', 'resolved', 'open'] as const) {
      expect((await h.client(operatorToken).triageFinding(id as number, { status })).suggested_suppress).toBeUndefined();
    }
  });

  it('okesu findings triage ID false_positive prints the entry ready to paste, and says where it goes', async () => {
    const [id] = await ingest('web-04', [memfd(77)]);
    const deps = testDeps({ env: { OKESU_CONFIG: join(h.stateDir, 'admin.yaml') }, now: Date.now });
    expect(await runCli(['findings', 'triage', String(id), 'false_positive', '--reason', 'CI runner'], deps)).toBe(0);
    const out = deps.stdout.text();
    expect(out.split('\n')[0]).toBe(`false_positive finding ${id}: 1 finding changed`);
    const yaml = out.slice(out.indexOf('suppress:'));
    expect(asPolicyEntry(yaml)).toMatchObject({ agent: 'edr', rule: 'memfd-executable', reason: 'CI runner', match: { resource: '(deleted),binary:/memfd:runc' } });
    expect(deps.stderr.text()).toContain('add this entry to /etc/okesu/policy.yaml there');

    const acked = testDeps({ env: { OKESU_CONFIG: join(h.stateDir, 'admin.yaml') }, now: Date.now });
    expect(await runCli(['findings', 'triage', String(id), 'acknowledged', '--group'], acked)).toBe(0);
    expect(acked.stdout.text()).toMatch(/^acknowledged group [0-9a-f]+: \d+ findings? changed\n$/);
    expect(acked.stderr.text()).toBe('');

    const bad = testDeps({ env: { OKESU_CONFIG: join(h.stateDir, 'admin.yaml') }, now: Date.now });
    expect(await runCli(['findings', 'triage', String(id), 'bogus'], bad)).not.toBe(0);
    expect(bad.stderr.text()).toMatch(/value 'bogus' is invalid/);
  });
});
