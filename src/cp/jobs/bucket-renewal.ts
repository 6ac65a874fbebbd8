import type { KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { hostParty, renewAnswerBodySchema, renewRequestBodySchema, type RenewAnswerBody } from '../../protocol/bucket-objects.js';
import type { BucketLayout } from '../../protocol/bucket-layout.js';
import type { Bucket } from '../../transport/bucket/bucket.js';
import { encodeObject, readObject, type ObjectSigner } from '../../transport/bucket/signed-object.js';
import { parseAndVerifyCsr } from '../../pki/csr.js';
import type { HostRow, HostsRepo } from '../store/hosts.js';
import type { CertRenewal } from '../tunnel/cert-renewal.js';
import type { RegOutcome } from './bucket-registration.js';
import { publicKeyFromText, publicKeyText } from './host-keys.js';

/** Lifetime of a renewal answer. */
const ANSWER_TTL_MS = 3_600_000;

/** The CP's side of `reg/<host>/<nonce>.renew` (certificate renewal of a host that reaches only the bucket). */
export interface BucketRenewal {
  /** Verifies and answers one request object (already fetched). Throws only when the bucket fails. */
  handle(key: string, host: string, nonce: string, bytes: Buffer): Promise<RegOutcome>;
}

// The CSR's key as the hosts table keeps it; undefined when the CSR cannot be read (issue says why).
function csrKeyText(csrPem: string): string | undefined {
  try {
    return publicKeyText(parseAndVerifyCsr(csrPem).spkiDer);
  } catch {
    return undefined;
  }
}

/**
 * Answers a renewal request (docs/jobs-mode.md, Identity): it must be signed by the host's current key — or by the one
 * its last renewal replaced, when that renewal's answer never reached it — and carry a CSR for the same hostname. The
 * renewal is the tunnel's own (`CertRenewal.issue`: new serial, old key kept as prev, audit); the serial it renews
 * from is the one that goes with the key that signed. The answer (certificate or refusal, signed with the CA key) is
 * written beside the request, never over an answer already there.
 */
export function createBucketRenewal(deps: {
  bucket: Bucket;
  layout: BucketLayout;
  signer: ObjectSigner;
  hosts: Pick<HostsRepo, 'get'>;
  renewal: Pick<CertRenewal, 'issue'>;
  now: () => number;
  log: Logger;
}): BucketRenewal {
  const answer = async (host: string, nonce: string, body: RenewAnswerBody): Promise<void> => {
    const key = deps.layout.renewAnswer(host, nonce);
    const now = deps.now();
    const bytes = encodeObject({ kind: 'renew_ans', key: deps.layout.relative(key) as string, to: hostParty(host), issued_at: now, expires_at: now + ANSWER_TTL_MS }, [renewAnswerBodySchema.parse(body)], deps.signer);
    await deps.bucket.putIfAbsent(key, bytes);
  };
  // Which of the host's keys signed, and so which certificate it holds: the current one, or the one renewed last.
  const verify = (row: HostRow, relative: string, bytes: Buffer) => {
    const tries: [KeyObject | undefined, string | null][] = [[publicKeyFromText(row.public_key), row.cert_serial], [publicKeyFromText(row.public_key_prev), row.cert_serial_prev]];
    let reason = `no key known for ${row.hostname}`;
    for (const [key, serial] of tries) {
      if (!key) continue;
      const read = readObject(bytes, {
        key: relative, kind: 'renew_req', to: 'cp', now: deps.now(),
        from: (party) => party === hostParty(row.hostname), keysOf: (party) => (party === hostParty(row.hostname) ? [key] : undefined),
      });
      if (read.ok) return { ok: true as const, lines: read.object.lines, serial };
      reason = read.reason;
    }
    return { ok: false as const, reason };
  };

  return {
    async handle(key, host, nonce, bytes) {
      const row = deps.hosts.get(host);
      if (!row) return { answered: false, reason: `no key known for ${host} (unknown or revoked host)` };
      const read = verify(row, deps.layout.relative(key) as string, bytes);
      if (!read.ok) return { answered: false, reason: read.reason };
      const body = renewRequestBodySchema.safeParse(read.lines[0]);
      if (!body.success || read.lines.length !== 1) return { answered: false, reason: 'bad renewal request: expected one body line {csr, nonce}' };
      if (body.data.nonce !== nonce) return { answered: false, reason: `the request names nonce ${body.data.nonce}, its key ${nonce}` };
      // A request replayed after it was answered (the host's key is already the CSR's): renewing again would bind a
      // serial the host never receives. A daimon never sends one CSR twice (a lost answer means a new key).
      if (csrKeyText(body.data.csr) === row.public_key) return { answered: false, reason: 'replayed: the host already holds a certificate for this CSR\'s key' };
      // Signed with the replaced key after that serial was settled: nothing to renew from (issue refuses it).
      const out = await deps.renewal.issue(row, read.serial ?? '', body.data.csr, 'bucket');
      if (out.ok) await answer(host, nonce, { nonce, ok: true, certificate: out.certPem });
      else await answer(host, nonce, { nonce, ok: false, code: 'OKS_ERR_CERT_RENEWAL', message: out.detail.slice(0, 4096) });
      return { answered: true, ok: out.ok };
    },
  };
}
