import { afterEach, describe, expect, it } from 'vitest';
import { deployPrepareResponseSchema, type DeployPrepareResponse } from '../../src/protocol/deploy-api.js';
import { errorCode, errorMessage, startCp, type CpHarness } from './cp-harness.js';

let h: CpHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const TARGET = 'root@127.0.0.1:2222';
const KEY_A = `SHA256:${'A'.repeat(43)}`;
const KEY_B = `SHA256:${'B'.repeat(43)}`;

async function prepare(cp: CpHarness, hostname = 'web-01', token?: string | null): Promise<DeployPrepareResponse> {
  const answer = await cp.request('POST', '/v1/deploy/prepare', { json: { target: TARGET, hostname }, ...(token !== undefined && { token }) });
  if (answer.status !== 201) throw new Error(`prepare: HTTP ${answer.status} ${answer.text}`);
  return deployPrepareResponseSchema.parse(answer.body);
}

function result(cp: CpHarness, prepared: DeployPrepareResponse, over: Record<string, unknown> = {}) {
  return cp.request('POST', '/v1/deploy/result', { json: { deploy_id: prepared.deploy_id, target: TARGET, hostname: 'web-01', outcome: 'installed', host_key: KEY_A, ...over } });
}

describe('POST /v1/deploy/prepare', () => {
  it('issues a single-use join token bound to the hostname, the advertised CP URL, and no pin for a new target', async () => {
    h = await startCp();
    const prepared = await prepare(h);
    expect(prepared.cp_url).toBe(h.url);
    expect(prepared.pinned_host_key).toBeNull();
    const listed = (await h.admin.listTokens()).find((t) => t.name.startsWith(`deploy ${prepared.deploy_id}`));
    expect(listed).toMatchObject({ kind: 'join', uses_left: 1 });
    expect(listed?.expires_at).not.toBeNull();

    // Bound: another hostname is refused with the reason, and the token keeps its use for the right one.
    const wrong = await h.register('db-01', prepared.join_token);
    expect(wrong.status).toBe(401);
    expect(errorCode(wrong.body)).toBe('OKS_ERR_TOKEN_INVALID');
    expect(errorMessage(wrong.body)).toContain('issued to deploy host "web-01", not "db-01"');
    expect((await h.register('web-01', prepared.join_token)).status).toBe(201);
    // Single use.
    expect(errorCode((await h.register('web-01', prepared.join_token)).body)).toMatch(/OKS_ERR_TOKEN_EXHAUSTED|OKS_ERR_HOSTNAME_TAKEN/);
  });

  it('is for admins only (it mints a join token), and refuses a malformed target', async () => {
    h = await startCp();
    const operator = await h.mintOperator('operator');
    const refused = await h.request('POST', '/v1/deploy/prepare', { token: operator.token, json: { target: TARGET, hostname: 'web-01' } });
    expect(refused.status).toBe(403);
    const bad = await h.request('POST', '/v1/deploy/prepare', { json: { target: 'root@host', hostname: 'web-01' } });
    expect(bad.status).toBe(400);
  });
});

describe('POST /v1/deploy/result', () => {
  it('audits the outcome, pins the host key on first success, answers the pin on the next prepare, and refuses a changed key', async () => {
    h = await startCp();
    const first = await prepare(h);
    const answer = await result(h, first);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ deploy_id: first.deploy_id, recorded: true, pinned: true });

    const second = await prepare(h);
    expect(second.pinned_host_key).toBe(KEY_A);
    const changed = await result(h, second, { host_key: KEY_B, outcome: 'unchanged' });
    expect(changed.status).toBe(409);
    expect(errorCode(changed.body)).toBe('OKS_ERR_SSH_HOST_KEY_CHANGED');
    expect(errorMessage(changed.body)).toContain(`okesu deploy forget-key ${TARGET}`);

    const actions = (await h.admin.audit(20)).map((e) => `${e.action} ${e.target}`);
    expect(actions).toContain(`deploy.installed ${TARGET}`);
    expect(actions).toContain(`deploy.refused ${TARGET}`);
    // The refused deploy's token (unused) was revoked with the result.
    const token = (await h.admin.listTokens()).find((t) => t.name.startsWith(`deploy ${second.deploy_id}`));
    expect(token?.revoked_at).not.toBeNull();
  });

  it('does not pin from a failed deploy, and forget-key lets a changed key be pinned again (audited)', async () => {
    h = await startCp();
    const failed = await prepare(h);
    expect((await result(h, failed, { outcome: 'failed', error: 'auth refused' })).body).toMatchObject({ pinned: false });
    expect((await prepare(h)).pinned_host_key).toBeNull();

    await result(h, await prepare(h));
    const forget = await h.request('DELETE', `/v1/deploy/host-keys/${encodeURIComponent(TARGET)}`);
    expect(forget.body).toEqual({ target: TARGET, fingerprint: KEY_A, forgotten: true });
    expect((await h.request('DELETE', `/v1/deploy/host-keys/${encodeURIComponent(TARGET)}`)).status).toBe(404);
    const again = await prepare(h);
    expect(again.pinned_host_key).toBeNull();
    expect((await result(h, again, { host_key: KEY_B })).body).toMatchObject({ pinned: true });
    expect((await h.request('GET', '/v1/deploy/host-keys')).body).toMatchObject({ host_keys: [{ target: TARGET, fingerprint: KEY_B }] });
    expect((await h.admin.audit(20)).map((e) => e.action)).toContain('deploy.forget_key');
  });

  it('refuses an unknown deploy id and a hostname other than the prepared one', async () => {
    h = await startCp();
    const prepared = await prepare(h);
    expect((await result(h, { ...prepared, deploy_id: 'dp_0000000000000000' })).status).toBe(404);
    expect((await result(h, prepared, { hostname: 'db-01' })).status).toBe(400);
  });
});
