import type { Logger } from 'pino';
import { OkesuError } from '../../errors.js';
import type { CaMaterial } from '../../pki/ca.js';
import { parseAndVerifyCsr } from '../../pki/csr.js';
import { signHostCsr } from '../../pki/host-cert.js';
import type { CpFrame } from '../../protocol/tunnel.js';
import type { Store } from '../store/store.js';
import type { HostRow } from '../store/hosts.js';

/** The CP's side of certificate renewal over the tunnel. */
export interface CertRenewal {
  /**
   * Answers a tunnel's `renew_cert`: a `cert_renewed` frame with the new serial, or an error frame OKS_ERR_CERT_RENEWAL
   * saying why. `serial` is the certificate the daimon holds (the tunnel's, or the one its last renewal delivered).
   * Never throws.
   */
  renew(host: HostRow, serial: string, csrPem: string): Promise<{ frame: CpFrame; serial?: string }>;
  /**
   * The renewal itself, whatever carried the CSR (the tunnel, the bucket): the certificate for the CSR's key, or why
   * not. `serial` is the certificate the host proved it holds; `via` goes into the audit entry. Never throws.
   */
  issue(host: HostRow, serial: string, csrPem: string, via: 'tunnel' | 'bucket'): Promise<RenewalOutcome>;
}

/** A renewal's outcome: the new certificate, or the reason it was refused (already logged). */
export type RenewalOutcome = { ok: true; certPem: string; serial: string; notAfter: number } | { ok: false; detail: string };

const refusal = (detail: string): { frame: CpFrame } => ({
  frame: { type: 'error', code: 'OKS_ERR_CERT_RENEWAL', message: new OkesuError('OKS_ERR_CERT_RENEWAL', detail).message.slice(0, 4096) },
});

/**
 * Renews a host's client certificate for the identity its tunnel (or its signature on a bucket object) proved: the CSR
 * must verify (EC P-256 or Ed25519, self-signed) and name the host's own hostname as its only commonName; the CP binds hostname and SPIFFE URI itself.
 * The new serial becomes the live one in the same transaction as its audit entry; the replaced serial stays accepted
 * until the new certificate is first used (tunnel-auth), so a lost answer does not lock the host out.
 */
export function createCertRenewal(deps: {
  store: Pick<Store, 'hosts' | 'audit' | 'transaction'>;
  ca: CaMaterial;
  ttlMs: number;
  now: () => number;
  log: Logger;
  /** Called after a renewal committed (to announce the host's new expiry). */
  onRenewed?: (hostname: string) => void;
}): CertRenewal {
  const announce = (hostname: string): void => {
    try {
      deps.onRenewed?.(hostname);
    } catch (err) {
      deps.log.error({ err, host: hostname }, 'announcing a renewed host failed');
    }
  };
  const issue = async (host: HostRow, serial: string, csrPem: string, via: 'tunnel' | 'bucket'): Promise<RenewalOutcome> => {
    const hostname = host.hostname;
    const refused = (detail: string): RenewalOutcome => {
      deps.log.warn({ host: hostname, via, reason: detail }, 'certificate renewal refused');
      return { ok: false, detail };
    };
    let names: string[];
    let publicKey: string;
    try {
      const csr = parseAndVerifyCsr(csrPem);
      names = csr.commonNames;
      publicKey = csr.spkiDer.toString('base64');
    } catch (err) {
      return refused(err instanceof OkesuError ? err.message : 'the CSR cannot be read');
    }
    if (names.length !== 1 || names[0] !== hostname) {
      return refused(`the CSR names ${JSON.stringify(names)}; this host can only renew ${JSON.stringify(hostname)}`);
    }
    try {
      const cert = await signHostCsr(deps.ca, csrPem, hostname, { validityMs: deps.ttlMs });
      const at = deps.now();
      const renewed = deps.store.transaction(() => {
        const ok = deps.store.hosts.renewCert(host.id, serial, { serial: cert.serial, issuedAt: cert.notAfter - deps.ttlMs, notAfter: cert.notAfter, publicKey });
        if (ok) deps.store.audit.record(at, { name: `host:${hostname}`, role: 'host' }, 'host.renew_cert', hostname, { serial: cert.serial, previous: serial, not_after: cert.notAfter, via });
        return ok;
      });
      if (!renewed) return refused('this identity was revoked or replaced meanwhile');
      deps.log.info({ host: hostname, via, serial: cert.serial, previous: serial, not_after: new Date(cert.notAfter).toISOString() }, 'host certificate renewed');
      announce(hostname);
      return { ok: true, certPem: cert.certPem, serial: cert.serial, notAfter: cert.notAfter };
    } catch (err) {
      deps.log.error({ err, host: hostname, via }, 'certificate renewal failed');
      return { ok: false, detail: 'the CP could not issue the certificate' };
    }
  };
  return {
    issue,
    async renew(host, serial, csrPem) {
      const out = await issue(host, serial, csrPem, 'tunnel');
      if (!out.ok) return refusal(out.detail);
      return { frame: { type: 'cert_renewed', certificate: out.certPem, not_after: out.notAfter }, serial: out.serial };
    },
  };
}
