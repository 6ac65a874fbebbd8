import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findingDetailSchema, findingGroupViewSchema, triageViewSchema, type FindingGroupView } from '../../src/protocol/findings-api.js';
import { findingSummarySchema } from '../../src/protocol/api.js';
import type { EventRecord } from '../../src/protocol/tunnel.js';
import { asTicks, errorCode, errorMessage, findingRecord, runId, sendEvents, startCp, type CpHarness } from './cp-harness.js';

// One CP for the file: each test ingests findings with its own titles, so its groups are its own.
let h: CpHarness;
let operatorToken: string;
let viewerToken: string;
beforeAll(async () => {
  h = await startCp();
  operatorToken = (await h.mintOperator('operator', 'alice')).token;
  viewerToken = (await h.mintOperator('viewer', 'val')).token;
});
afterAll(async () => {
  await h.close();
});

/** Ingests the records as `host` (registering it on first use); returns the stored finding ids in order. */
const hosts = new Map<string, Awaited<ReturnType<CpHarness['registerHost']>>>();
async function ingest(host: string, records: EventRecord[]): Promise<number[]> {
  let identity = hosts.get(host);
  if (!identity) hosts.set(host, (identity = await h.registerHost(host)));
  const tunnel = await h.connectHost(identity);
  const before = await h.admin.findings({ after_id: 0, limit: 100_000 });
  await sendEvents(tunnel, asTicks(records));
  tunnel.terminate();
  const known = new Set(before.findings.map((f) => f.id));
  return (await h.admin.findings({ after_id: 0, limit: 100_000 })).findings.filter((f) => !known.has(f.id)).map((f) => f.id);
}
const finding = (title: string, fields: Record<string, unknown> = {}): EventRecord =>
  findingRecord(runId(), 1, { title, resource: 'binary:/usr/bin/nc', ...fields });
const groupOf = async (title: string): Promise<FindingGroupView | undefined> => (await h.admin.findingGroups({ limit: 1000 })).find((g) => g.title === title);
const auditCount = async (): Promise<number> => (await h.admin.audit(10_000)).length;
const triageFeedEntries = (): number => (h.cp.store().db.prepare("SELECT count(*) AS n FROM feed WHERE kind = 'triage'").get() as { n: number }).n;

describe('GET /v1/findings/:id', () => {
  it('answers the stored finding and its raw event to a viewer; 404 when absent, 400 for a non-id', async () => {
    const [id] = await ingest('web-01', [finding('Detail me', { evidence: ['line 1', 'line 2'], attributes: { pid: 7 } })]);
    const answer = await h.request('GET', `/v1/findings/${id}`, { token: viewerToken });
    expect(answer.status).toBe(200);
    const detail = findingDetailSchema.parse(answer.body);
    expect(detail.finding).toMatchObject({ id, title: 'Detail me', host: 'web-01', status: 'open', evidence: ['line 1', 'line 2'] });
    expect(detail.event).toMatchObject({ type: 'finding', host: 'web-01', run_id: detail.finding.run_id, seq: 1, attributes: { pid: 7 } });

    const missing = await h.request('GET', '/v1/findings/987654321');
    expect([missing.status, errorCode(missing.body)]).toEqual([404, 'OKS_ERR_NOT_FOUND']);
    const bad = await h.request('GET', '/v1/findings/abc');
    expect([bad.status, errorCode(bad.body)]).toEqual([400, 'OKS_ERR_BAD_REQUEST']);
    expect(errorMessage(bad.body)).toMatch(/^malformed request: id: /);
    expect((await h.request('GET', `/v1/findings/${id}`, { token: null })).status).toBe(401);
  });

  it('keeps the older paths: the list and the summary are not taken for ids', async () => {
    expect((await h.request('GET', '/v1/findings?limit=1')).status).toBe(200);
    expect(findingSummarySchema.safeParse((await h.request('GET', '/v1/findings/summary')).body).success).toBe(true);
  });
});

describe('POST /v1/findings/:id/triage', () => {
  it('triages one finding: the answer, its status, the group and summary open counts, one audit entry', async () => {
    const [a, b] = await ingest('web-01', [finding('Triage one', { severity: 'CRITICAL' }), finding('Triage one', { severity: 'CRITICAL' })]);
    const before = await h.admin.findingsSummary({});
    expect((await groupOf('Triage one'))?.open).toBe(2);

    const answer = await h.request('POST', `/v1/findings/${a}/triage`, { token: operatorToken, json: { status: 'acknowledged', reason: 'known pentest' } });
    expect(answer.status).toBe(200);
    const view = triageViewSchema.parse(answer.body);
    expect(view).toMatchObject({ finding_id: a, scope: 'finding', status: 'acknowledged', reason: 'known pentest', updated: 1, by: 'alice', role: 'operator' });

    expect((await h.admin.getFinding(a as number)).finding.status).toBe('acknowledged');
    expect((await h.admin.getFinding(b as number)).finding.status).toBe('open');
    expect(await groupOf('Triage one')).toMatchObject({ count: 2, open: 1 });
    const after = await h.admin.findingsSummary({});
    expect(after.by_status['acknowledged']).toBe((before.by_status['acknowledged'] ?? 0) + 1);
    expect(after.open_by_severity['CRITICAL']).toBe((before.open_by_severity['CRITICAL'] ?? 0) - 1);

    const [entry] = await h.admin.audit(1);
    expect(entry).toMatchObject({
      actor: 'alice', role: 'operator', action: 'finding.triage', target: String(a),
      detail: { status: 'acknowledged', scope: 'finding', reason: 'known pentest', updated: 1 },
    });
  });

  it('triages a whole group across hosts; updated counts the findings that changed', async () => {
    const [first] = await ingest('web-01', [finding('Triage group'), finding('Triage group')]);
    await ingest('web-02', [finding('Triage group')]);
    await h.client(operatorToken).triageFinding(first as number, { status: 'resolved' });
    expect((await groupOf('Triage group'))?.open).toBe(2);

    const view = await h.client(operatorToken).triageFinding(first as number, { status: 'false_positive', scope: 'group', reason: 'lab hosts' });
    expect(view).toMatchObject({ scope: 'group', status: 'false_positive', updated: 3 });
    expect(await groupOf('Triage group')).toMatchObject({ count: 3, open: 0, hosts: 2 });
    expect((await h.admin.findingGroups({ status: 'open', limit: 1000 })).some((g) => g.title === 'Triage group')).toBe(false);
    expect((await h.admin.findingGroups({ status: 'false_positive', limit: 1000 })).map((g) => g.title)).toContain('Triage group');
    const [entry] = await h.admin.audit(1);
    expect(entry).toMatchObject({ action: 'finding.triage', target: view.fingerprint, detail: { scope: 'group', status: 'false_positive', updated: 3, reason: 'lab hosts' } });
  });

  it('refuses a viewer (403), an unknown finding (404) and a bad id (400), writing nothing', async () => {
    const [id] = await ingest('web-01', [finding('Refused triage')]);
    const audits = await auditCount();
    const feedEntries = triageFeedEntries();
    const forbidden = await h.request('POST', `/v1/findings/${id}/triage`, { token: viewerToken, json: { status: 'resolved' } });
    expect([forbidden.status, errorCode(forbidden.body)]).toEqual([403, 'OKS_ERR_FORBIDDEN']);
    const missing = await h.request('POST', '/v1/findings/987654321/triage', { token: operatorToken, json: { status: 'resolved' } });
    expect([missing.status, errorCode(missing.body)]).toEqual([404, 'OKS_ERR_NOT_FOUND']);
    const badId = await h.request('POST', '/v1/findings/-3/triage', { token: operatorToken, json: { status: 'resolved' } });
    expect([badId.status, errorMessage(badId.body)]).toEqual([400, expect.stringMatching(/id: /)]);
    expect((await h.admin.getFinding(id as number)).finding.status).toBe('open');
    expect(await auditCount()).toBe(audits);
    expect(triageFeedEntries()).toBe(feedEntries);
  });

  const garbage: [string, string | Record<string, unknown>, RegExp][] = [
    ['an unknown status', { status: 'closed' }, /status: /],
    ['no status', { scope: 'group' }, /status: /],
    ['an unknown scope', { status: 'resolved', scope: 'fleet' }, /scope: /],
    ['a reason over 1024 characters', { status: 'resolved', reason: 'x'.repeat(1025) }, /reason: /],
    ['a numeric reason', { status: 'resolved', reason: 42 }, /reason: /],
    ['not JSON', '{status: resolved', /not valid JSON/],
  ];
  it.each(garbage)('answers %s with a 400 naming the field and stores nothing', async (_name, body, message) => {
    const [id] = await ingest('web-01', [finding('Garbage triage')]);
    const audits = await auditCount();
    const feedEntries = triageFeedEntries();
    const answer = await h.request('POST', `/v1/findings/${id}/triage`, {
      token: operatorToken, ...(typeof body === 'string' ? { raw: body } : { json: body }),
    });
    expect([answer.status, errorCode(answer.body)]).toEqual([400, 'OKS_ERR_BAD_REQUEST']);
    expect(errorMessage(answer.body)).toMatch(message);
    expect((await h.admin.getFinding(id as number)).finding.status).toBe('open');
    expect(await auditCount()).toBe(audits);
    expect(triageFeedEntries()).toBe(feedEntries);
  });
});

describe('GET /v1/findings/groups and /clusters', () => {
  it('lists groups with filters and a limit, and refuses a bad query naming the field', async () => {
    await ingest('db-01', [finding('Groups low', { severity: 'LOW', resource: 'x:/low' }), finding('Groups high', { severity: 'HIGH', category: 'network', resource: 'x:/high' })]);
    const answer = await h.request('GET', '/v1/findings/groups?severity=high&category=network', { token: viewerToken });
    expect(answer.status).toBe(200);
    const groups = (answer.body as { groups: unknown[] }).groups.map((g) => findingGroupViewSchema.parse(g));
    expect(groups.map((g) => g.title)).toEqual(['Groups high']);
    expect(groups[0]).toMatchObject({ count: 1, open: 1, hosts: 1, sample_hosts: ['db-01'], severity: 'HIGH' });
    expect(await h.admin.findingGroups({ limit: 1 })).toHaveLength(1);

    for (const [query, field] of [['limit=0', 'limit'], ['limit=1001', 'limit'], ['status=closed', 'status'], ['severity=urgent', 'severity']]) {
      const bad = await h.request('GET', `/v1/findings/groups?${query}`);
      expect([bad.status, errorMessage(bad.body)]).toEqual([400, expect.stringContaining(`${field}: `)]);
    }
    expect((await h.request('GET', '/v1/findings/clusters?limit=x')).status).toBe(400);
    expect((await h.request('GET', '/v1/findings/groups', { token: null })).status).toBe(401);
  });

  it('lists indicator clusters through the client', async () => {
    await ingest('web-07', [finding('C2 beacon', { evidence: ['to 203.0.113.77:443'], severity: 'MEDIUM', category: 'network' })]);
    await ingest('web-08', [finding('C2 beacon two', { evidence: ['203.0.113.77'], severity: 'HIGH', category: 'network' })]);
    const clusters = await h.client(viewerToken).findingClusters({ category: 'network' });
    expect(clusters.find((c) => c.indicator === 'ip:203.0.113.77')).toMatchObject({
      kind: 'ip', findings: 2, hosts: 2, max_severity: 'HIGH', sample_hosts: expect.arrayContaining(['web-07', 'web-08']),
    });
  });
});

describe('GET /v1/findings/summary', () => {
  it('fills by_status and open_by_severity always, open_by_host only when asked', async () => {
    const [id] = await ingest('sum-01', [finding('Summary one', { severity: 'INFO', resource: 'x:/s1' }), finding('Summary two', { severity: 'INFO', resource: 'x:/s2' })]);
    await h.client(operatorToken).triageFinding(id as number, { status: 'resolved' });
    const plain = await h.request('GET', '/v1/findings/summary?host=sum-01');
    expect(plain.body).toMatchObject({
      total: 2, by_status: { open: 1, acknowledged: 0, resolved: 1, false_positive: 0 },
      open_by_severity: { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, INFO: 1 },
    });
    expect(plain.body).not.toHaveProperty('open_by_host');
    const byHost = await h.client(viewerToken).findingsSummaryByHost({});
    expect(byHost.open_by_host?.['sum-01']).toBe(1);
    expect(Object.values(byHost.open_by_host ?? {}).reduce((a, n) => a + n, 0)).toBe(byHost.by_status['open']);
    expect((await h.request('GET', '/v1/findings/summary?open_by_host=maybe')).status).toBe(400);
  });
});
