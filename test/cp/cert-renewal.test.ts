import { X509Certificate } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { generateHostKeyAndCsr } from '../../src/pki/host-key.js';
import { serialFromPeerCertificate } from '../../src/pki/peer-identity.js';
import { errorCode, errorMessage, heartbeat, startCp, waitFor, type CpHarness, type Frame, type HostIdentity, type TestSocket } from './cp-harness.js';

const TTL_MS = 3_600_000;

let h: CpHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Sends `renew_cert` with a CSR for `csrHost` (default the tunnel's own host) and waits for the answer. */
async function renew(socket: TestSocket, hostname: string, csrPem?: string): Promise<{ answer: Frame; keyPem: string }> {
  const generated = await generateHostKeyAndCsr(hostname);
  const from = socket.frames.length;
  socket.send({ type: 'renew_cert', csr: csrPem ?? generated.csrPem });
  const answer = await socket.next((f) => f.type === 'cert_renewed' || f.type === 'error', { from });
  return { answer, keyPem: generated.keyPem };
}

const serialOf = (pem: string): string | undefined => serialFromPeerCertificate({ serialNumber: new X509Certificate(pem).serialNumber } as never);

describe('certificate renewal over the tunnel', () => {
  it('issues a certificate for the same host with the configured lifetime, records it, and audits it', async () => {
    h = await startCp({ options: { hostCertTtlMs: TTL_MS } });
    const id = await h.registerHost('web-01');
    const socket = await h.connectHost(id);
    const before = Date.now();
    const { answer, keyPem } = await renew(socket, 'web-01');
    expect(answer.type).toBe('cert_renewed');
    const cert = new X509Certificate(answer['certificate'] as string);
    expect(cert.subjectAltName).toBe('DNS:web-01, URI:spiffe://okesu/host/web-01');
    expect(cert.checkPrivateKey(await import('node:crypto').then((c) => c.createPrivateKey(keyPem)))).toBe(true);
    expect(Date.parse(cert.validTo)).toBe(answer['not_after']);
    expect(answer['not_after']).toBeGreaterThanOrEqual(Math.floor((before + TTL_MS) / 1000) * 1000);
    expect(answer['not_after']).toBeLessThanOrEqual(Date.now() + TTL_MS);
    const row = h.cp.store().hosts.get('web-01');
    expect(row?.cert_serial).toBe(serialOf(answer['certificate'] as string));
    expect(row?.cert_serial_prev).toBe(serialOf(id.cert));
    expect(row?.cert_not_after).toBe(answer['not_after']);
    const view = (await h.admin.hosts()).find((x) => x.hostname === 'web-01');
    expect(view?.cert_expires_at).toBe(answer['not_after']);
    expect((await h.admin.audit(10)).find((e) => e.action === 'host.renew_cert')).toMatchObject({ target: 'web-01', actor: 'host:web-01' });
    // The tunnel stays up and keeps working.
    socket.send(heartbeat(1));
    await socket.nextOfType('heartbeat_ack');
  });

  it.each([
    ['another hostname', (csr: string) => csr, 'web-02', /can only renew "web-01"/],
    ['garbage', () => 'not a CSR', 'web-01', /CERTIFICATE REQUEST/],
  ])('refuses a CSR for %s with OKS_ERR_CERT_RENEWAL and changes nothing', async (_name, csrOf, csrHost, message) => {
    h = await startCp();
    const id = await h.registerHost('web-01');
    const socket = await h.connectHost(id);
    const generated = await generateHostKeyAndCsr(csrHost);
    const { answer } = await renew(socket, 'web-01', csrOf(generated.csrPem));
    expect(answer).toMatchObject({ type: 'error', code: 'OKS_ERR_CERT_RENEWAL' });
    expect(answer['message']).toMatch(message);
    expect(h.cp.store().hosts.get('web-01')).toMatchObject({ cert_serial: serialOf(id.cert), cert_serial_prev: null });
    socket.send(heartbeat(1));
    await socket.nextOfType('heartbeat_ack');
    expect(socket.isOpen()).toBe(true);
  });

  it('accepts the replaced certificate until the renewed one is used, then refuses it', async () => {
    h = await startCp();
    const id = await h.registerHost('web-01');
    const socket = await h.connectHost(id);
    const { answer, keyPem } = await renew(socket, 'web-01');
    socket.terminate();
    const renewed: HostIdentity = { ...id, cert: answer['certificate'] as string, key: keyPem };
    // The answer might have been lost: the old certificate still gets in (and may renew again).
    const old = await h.openTunnel(id);
    expect(old.ok).toBe(true);
    if (old.ok) old.socket.terminate();
    const fresh = await h.connectHost(renewed);
    fresh.terminate();
    expect(h.cp.store().hosts.get('web-01')?.cert_serial_prev).toBeNull();
    const refused = await h.openTunnel(id);
    expect(refused.ok ? 'accepted' : errorCode(refused.refusal.body)).toBe('OKS_ERR_HOST_REVOKED');
  });

  it('keeps the certificate a tunnel last delivered acceptable when the same tunnel renews again', async () => {
    h = await startCp();
    const id = await h.registerHost('web-01');
    const socket = await h.connectHost(id);
    const one = await renew(socket, 'web-01');
    const two = await renew(socket, 'web-01');
    expect([one.answer.type, two.answer.type]).toEqual(['cert_renewed', 'cert_renewed']);
    socket.terminate();
    const first: HostIdentity = { ...id, cert: one.answer['certificate'] as string, key: one.keyPem };
    const second: HostIdentity = { ...id, cert: two.answer['certificate'] as string, key: two.keyPem };
    // The second answer might have been lost: the daimon then holds the first renewed certificate.
    const held = await h.openTunnel(first);
    expect(held.ok).toBe(true);
    if (held.ok) held.socket.terminate();
    const original = await h.openTunnel(id);
    expect(original.ok ? 'accepted' : errorCode(original.refusal.body)).toBe('OKS_ERR_HOST_REVOKED');
    (await h.connectHost(second)).terminate();
    const stale = await h.openTunnel(first);
    expect(stale.ok ? 'accepted' : errorCode(stale.refusal.body)).toBe('OKS_ERR_HOST_REVOKED');
  });

  it('refuses an expired certificate at the tunnel and says the host must join again', async () => {
    h = await startCp({ options: { hostCertTtlMs: 2000 } });
    const id = await h.registerHost('web-01');
    const notAfter = Date.parse(new X509Certificate(id.cert).validTo);
    await waitFor(() => Date.now() > notAfter + 100, 10_000, 'the certificate to expire');
    const refused = await h.openTunnel(id);
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.refusal.status).toBe(401);
    expect(errorCode(refused.refusal.body)).toBe('OKS_ERR_CLIENT_CERT_UNTRUSTED');
    expect(errorMessage(refused.refusal.body)).toMatch(/expired.*register again with a new join token/);
  });
});
