import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCertificateAuthority } from '../../src/pki/ca.js';
import { signHostCsr } from '../../src/pki/host-cert.js';
import { generateHostKeyAndCsr } from '../../src/pki/host-key.js';
import { errorCode, errorMessage, startCp, waitFor, type CpHarness, type OpenResult } from './cp-harness.js';

let h: CpHarness;
beforeEach(async () => {
  h = await startCp();
});
afterEach(async () => {
  await h.close();
});

/** What a refused attempt answered: HTTP status and JSON body (101 when an upgrade was wrongly accepted). */
interface Outcome {
  status: number;
  body: unknown;
}

const outcomeOf = (result: OpenResult): Outcome => {
  if (result.ok) {
    result.socket.terminate();
    return { status: 101, body: undefined };
  }
  return { status: result.refusal.status, body: result.refusal.body };
};

const RUN_BODY = { agent: 'edr', host: 'web-01' };

interface Case {
  name: string;
  status: number;
  code: string;
  message?: RegExp;
  attempt(h: CpHarness): Promise<Outcome>;
}

const cases: Case[] = [
  // The tunnel: mutual TLS plus the host credential.
  {
    name: 'tunnel without a client certificate',
    status: 401,
    code: 'OKS_ERR_CLIENT_CERT_REQUIRED',
    attempt: async (h) => outcomeOf(await h.openTunnel(await h.registerHost('web-01'), { key: null, cert: null })),
  },
  {
    name: 'tunnel with a certificate from another CA',
    status: 401,
    code: 'OKS_ERR_CLIENT_CERT_UNTRUSTED',
    attempt: async (h) => {
      const id = await h.registerHost('web-01');
      const rogue = await createCertificateAuthority({ commonName: 'rogue CA' });
      const { keyPem, csrPem } = await generateHostKeyAndCsr('web-01');
      const { certPem } = await signHostCsr(rogue, csrPem, 'web-01');
      return outcomeOf(await h.openTunnel(id, { key: keyPem, cert: certPem }));
    },
  },
  {
    name: 'tunnel of a removed host',
    status: 403,
    code: 'OKS_ERR_HOST_REVOKED',
    attempt: async (h) => {
      const id = await h.registerHost('web-01');
      await h.admin.removeHost('web-01');
      return outcomeOf(await h.openTunnel(id));
    },
  },
  {
    name: "tunnel with one host's credential and another host's certificate",
    status: 403,
    code: 'OKS_ERR_HOST_MISMATCH',
    message: /belongs to web-01.*certificate to web-02/,
    attempt: async (h) => {
      const a = await h.registerHost('web-01');
      const b = await h.registerHost('web-02');
      return outcomeOf(await h.openTunnel(b, { credential: a.credential }));
    },
  },
  {
    name: 'tunnel without a host credential',
    status: 401,
    code: 'OKS_ERR_UNAUTHENTICATED',
    attempt: async (h) => outcomeOf(await h.openTunnel(await h.registerHost('web-01'), { credential: null })),
  },
  {
    name: 'tunnel with an unknown host credential',
    status: 401,
    code: 'OKS_ERR_TOKEN_INVALID',
    attempt: async (h) => outcomeOf(await h.openTunnel(await h.registerHost('web-01'), { credential: `okh_${'1'.repeat(16)}_${'2'.repeat(64)}` })),
  },
  // Registration: the join token.
  {
    name: 'register with an expired join token',
    status: 401,
    code: 'OKS_ERR_TOKEN_EXPIRED',
    attempt: async (h) => {
      const join = await h.mintJoin({ ttl_ms: 1 });
      const expiresAt = join.view.expires_at as number;
      await waitFor(() => Date.now() > expiresAt + 1, 2000, 'the join token to expire');
      return h.register('web-01', join.token);
    },
  },
  {
    name: 'register twice with a single-use join token',
    status: 401,
    code: 'OKS_ERR_TOKEN_EXHAUSTED',
    attempt: async (h) => {
      const join = await h.mintJoin({ uses: 1 });
      const first = await h.register('web-01', join.token);
      expect(first.status).toBe(201);
      return h.register('web-02', join.token);
    },
  },
  {
    name: 'register with a join token whose CA pin was altered',
    status: 401,
    code: 'OKS_ERR_TOKEN_INVALID',
    message: /CA pin/,
    attempt: async (h) => {
      const join = await h.mintJoin();
      const pin = join.token.slice(-43);
      const altered = `${join.token.slice(0, -43)}${pin[0] === 'A' ? 'B' : 'A'}${pin.slice(1)}`;
      return h.register('web-01', altered);
    },
  },
  {
    name: 'register a hostname bound to another identity',
    status: 409,
    code: 'OKS_ERR_HOSTNAME_TAKEN',
    message: /web-01/,
    attempt: async (h) => {
      await h.registerHost('web-01');
      return h.register('web-01', (await h.mintJoin()).token);
    },
  },
  // The operator API: roles and tokens.
  {
    name: 'viewer dispatching a run',
    status: 403,
    code: 'OKS_ERR_FORBIDDEN',
    message: /needs operator/,
    attempt: async (h) => h.request('POST', '/v1/runs', { token: (await h.mintOperator('viewer')).token, json: RUN_BODY }),
  },
  {
    name: 'viewer creating a token',
    status: 403,
    code: 'OKS_ERR_FORBIDDEN',
    attempt: async (h) => h.request('POST', '/v1/tokens', { token: (await h.mintOperator('viewer')).token, json: { kind: 'join' } }),
  },
  {
    name: 'operator creating a token',
    status: 403,
    code: 'OKS_ERR_FORBIDDEN',
    message: /needs admin/,
    attempt: async (h) => h.request('POST', '/v1/tokens', { token: (await h.mintOperator('operator')).token, json: { kind: 'operator', role: 'admin' } }),
  },
  {
    name: 'no token',
    status: 401,
    code: 'OKS_ERR_UNAUTHENTICATED',
    attempt: (h) => h.request('GET', '/v1/hosts', { token: null }),
  },
  {
    name: 'a garbage token',
    status: 401,
    code: 'OKS_ERR_TOKEN_INVALID',
    attempt: (h) => h.request('GET', '/v1/hosts', { token: 'not-a-token' }),
  },
  {
    name: 'a well-formed but unknown operator token',
    status: 401,
    code: 'OKS_ERR_TOKEN_INVALID',
    attempt: (h) => h.request('GET', '/v1/hosts', { token: `okt_${'a'.repeat(16)}_${'b'.repeat(64)}` }),
  },
  {
    name: 'a revoked operator token',
    status: 401,
    code: 'OKS_ERR_TOKEN_REVOKED',
    attempt: async (h) => {
      const op = await h.mintOperator('operator');
      await h.admin.revokeToken(op.view.id);
      return h.request('GET', '/v1/hosts', { token: op.token });
    },
  },
  {
    name: 'stream upgrade without a token',
    status: 401,
    code: 'OKS_ERR_UNAUTHENTICATED',
    attempt: async (h) => outcomeOf(await h.openStream({}, null)),
  },
  {
    name: 'stream upgrade with a revoked token',
    status: 401,
    code: 'OKS_ERR_TOKEN_REVOKED',
    attempt: async (h) => {
      const viewer = await h.mintOperator('viewer');
      await h.admin.revokeToken(viewer.view.id);
      return outcomeOf(await h.openStream({}, viewer.token));
    },
  },
];

describe('auth matrix: every refusal carries its exact code', () => {
  it.each(cases)('$name → $status $code', async (c) => {
    const outcome = await c.attempt(h);
    expect(outcome.status).toBe(c.status);
    expect(errorCode(outcome.body)).toBe(c.code);
    if (c.message) expect(errorMessage(outcome.body)).toMatch(c.message);
  });
});

describe('auth side effects', () => {
  it('removing a host closes its open tunnel with OKS_ERR_HOST_REVOKED', async () => {
    const id = await h.registerHost('web-01');
    const tunnel = await h.connectHost(id);
    await h.admin.removeHost('web-01');
    const frame = await tunnel.nextOfType('error');
    expect(frame['code']).toBe('OKS_ERR_HOST_REVOKED');
    const closed = await tunnel.waitClosed();
    expect(closed.reason).toBe('OKS_ERR_HOST_REVOKED');
    expect((await h.admin.hosts()).map((x) => x.hostname)).not.toContain('web-01');
  });

  it('a removed hostname can register again, and only the new identity opens a tunnel', async () => {
    const old = await h.registerHost('web-01');
    expect(errorCode((await h.register('web-01', (await h.mintJoin()).token)).body)).toBe('OKS_ERR_HOSTNAME_TAKEN');
    await h.admin.removeHost('web-01');

    const fresh = await h.registerHost('web-01');
    expect(fresh.credential).not.toBe(old.credential);
    const tunnel = await h.connectHost(fresh);
    expect(tunnel.isOpen()).toBe(true);
    const stale = outcomeOf(await h.openTunnel(old));
    expect(errorCode(stale.body)).toBe('OKS_ERR_HOST_REVOKED');
  });

  it('records every successful mutating action in the audit log with actor and action', async () => {
    const join = await h.mintJoin({ name: 'join-for-web' });
    const joinId = join.view.id;
    const id = await h.registerHost('web-01', { token: join.token });
    const tunnel = await h.connectHost(id);
    const operator = await h.mintOperator('operator', 'alice');
    const run = await h.client(operator.token).createRun({ agent: 'edr', host: 'web-01' });
    await tunnel.nextOfType('dispatch');
    await h.admin.removeHost('web-01');
    await h.admin.revokeToken(operator.view.id);

    const entries = await h.admin.audit(1000);
    const seen = entries.map((e) => ({ action: e.action, actor: e.actor, role: e.role, target: e.target }));
    expect(seen).toEqual(
      expect.arrayContaining([
        { action: 'token.create', actor: 'admin', role: 'admin', target: joinId },
        { action: 'token.create', actor: 'admin', role: 'admin', target: operator.view.id },
        { action: 'host.register', actor: `join:${joinId}`, role: 'join', target: 'web-01' },
        { action: 'run.dispatch', actor: 'alice', role: 'operator', target: run.run_id },
        { action: 'host.remove', actor: 'admin', role: 'admin', target: 'web-01' },
        { action: 'token.revoke', actor: 'admin', role: 'admin', target: operator.view.id },
      ]),
    );
    // newest first
    expect(entries[0]?.action).toBe('token.revoke');
  });

  it('audits nothing for refused actions', async () => {
    const before = (await h.admin.audit(1000)).length;
    const viewer = await h.mintOperator('viewer');
    await h.request('POST', '/v1/tokens', { token: viewer.token, json: { kind: 'join' } });
    await h.request('POST', '/v1/runs', { token: viewer.token, json: RUN_BODY });
    await h.register('web-01', 'okj_garbage');
    const after = await h.admin.audit(1000);
    // only the viewer token's own creation
    expect(after.length - before).toBe(1);
    expect(after[0]).toMatchObject({ action: 'token.create', target: viewer.view.id });
  });
});
