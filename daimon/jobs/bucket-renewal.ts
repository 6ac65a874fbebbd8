import { randomBytes, X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import { certLifetime } from '../../src/pki/cert-lifetime.js';
import { generateHostKeyAndCsr } from '../../src/pki/host-key.js';
import type { BucketLayout } from '../../src/protocol/bucket-layout.js';
import { MAX_OBJECT_BYTES, hostParty, renewAnswerBodySchema } from '../../src/protocol/bucket-objects.js';
import { renewalDueAt } from '../../src/protocol/cert-expiry.js';
import type { Bucket } from '../../src/transport/bucket/bucket.js';
import { readObject } from '../../src/transport/bucket/signed-object.js';
import { problemWith } from '../cert-renewal.js';
import { saveRenewedIdentity, stageNextKey, type DaimonIdentity } from '../identity.js';
import { HOST_OBJECT_TTL_MS, type HostObjects } from './host-objects.js';

/** Certificate renewal of a jobs-only daimon, driven by its polls. */
export interface BucketRenewer {
  /**
   * Once per poll: writes a renewal request when one is due, or reads the answer to the one in flight (one GET, only
   * while waiting). Never throws: a failure is logged and tried again on a later poll.
   */
  poll(): Promise<void>;
  /** The renewal in flight, if any (its nonce). */
  pending(): string | undefined;
}

/** A request not answered within its own lifetime has expired at the CP: ask again. */
const ANSWER_TIMEOUT_MS = HOST_OBJECT_TTL_MS.renew_req;

/**
 * The bucket's twin of the tunnel's renewer (daimon/cert-renewal.ts), for a daimon that reaches only the bucket: once
 * a third of the certificate's lifetime is left, a fresh key is staged on disk and a CSR for it is written to
 * `reg/<host>/<nonce>.renew`, signed with the current key; the CP answers at `reg/<host>/<nonce>.renewed`, signed with
 * the CA key. A certificate that verifies with the CA and certifies the staged key is stored with it (atomically; a
 * crash between the steps is finished by loadIdentity) and handed to `onRenewed`, which signs with the new key from
 * then on. A refusal, a bad answer or no answer within the hour is logged and retried after a backoff.
 */
export function createBucketRenewer(
  opts: {
    bucket: Bucket;
    layout: BucketLayout;
    stateDir: string;
    identity: DaimonIdentity;
    /** The objects this host writes, signed with its current key. */
    objects: () => Pick<HostObjects, 'renewRequest'>;
    onRenewed: (identity: DaimonIdentity) => void;
  },
  deps: { log: Logger; now: () => number },
): BucketRenewer {
  const { bucket, layout } = opts;
  const { log, now } = deps;
  let identity = opts.identity;
  let inFlight: { nonce: string; keyPem: string; since: number } | undefined;
  let retryAt = 0;

  const lifetimeMs = (): number => {
    const l = certLifetime(identity.certPem);
    return l.notAfter - l.notBefore;
  };
  const retryLater = (): void => {
    inFlight = undefined;
    retryAt = now() + Math.min(3_600_000, Math.max(1000, Math.floor(lifetimeMs() / 10)));
  };

  const begin = async (): Promise<void> => {
    const { keyPem, csrPem } = await generateHostKeyAndCsr(identity.hostname);
    stageNextKey(opts.stateDir, keyPem);
    const nonce = randomBytes(16).toString('hex');
    const request = opts.objects().renewRequest({ csr: csrPem, nonce });
    await bucket.put(request.key, request.body);
    inFlight = { nonce, keyPem, since: now() };
    log.info({ host: identity.hostname, nonce, expires: new Date(certLifetime(identity.certPem).notAfter).toISOString() }, 'renewing the host certificate through the bucket');
  };

  // Reads the answer to the request in flight; nothing to do while there is none yet.
  const collect = async (pending: { nonce: string; keyPem: string; since: number }): Promise<void> => {
    const key = layout.renewAnswer(identity.hostname, pending.nonce);
    const got = await bucket.get(key, MAX_OBJECT_BYTES);
    if (!got) {
      if (now() - pending.since > ANSWER_TIMEOUT_MS) {
        log.warn({ nonce: pending.nonce, timeout_ms: ANSWER_TIMEOUT_MS }, 'no answer to the certificate renewal; retrying later');
        retryLater();
      }
      return;
    }
    // Done with this nonce whatever the answer says: it is ours to remove (the CP removes it after a day otherwise).
    const drop = (): Promise<void> => bucket.delete(key).catch((err: unknown) => log.debug({ err: (err as Error).message, object: key }, 'could not delete the renewal answer'));
    const read = got.tooLarge ? { ok: false as const, reason: `${got.size} bytes, over the limit` } : readObject(got.body, {
      key: layout.relative(key) as string, kind: 'renew_ans', to: hostParty(identity.hostname), now: now(),
      from: (p) => p === 'cp', keysOf: (p) => (p === 'cp' ? [new X509Certificate(identity.caPem).publicKey] : undefined),
    });
    const body = read.ok && read.object.lines.length === 1 ? renewAnswerBodySchema.safeParse(read.object.lines[0]) : undefined;
    if (!body?.success || body.data.nonce !== pending.nonce) {
      log.error({ object: key, reason: read.ok ? 'not a renewal answer for this request' : read.reason }, 'refused the renewal answer; retrying later');
      retryLater();
      return drop();
    }
    const ans = body.data;
    if (!ans.ok) {
      log.warn({ code: ans.code, reason: ans.message }, 'the CP refused the certificate renewal; retrying later');
      retryLater();
      return drop();
    }
    const problem = problemWith(ans.certificate, pending.keyPem, identity);
    if (problem) {
      log.error({ problem }, 'the renewed certificate is unusable; keeping the current one');
      retryLater();
      return drop();
    }
    identity = saveRenewedIdentity(opts.stateDir, identity, ans.certificate, pending.keyPem);
    inFlight = undefined;
    retryAt = 0;
    log.info({ host: identity.hostname, via: 'bucket', expires: new Date(certLifetime(ans.certificate).notAfter).toISOString() }, 'host certificate renewed');
    opts.onRenewed(identity);
    await drop();
  };

  return {
    async poll() {
      try {
        if (inFlight) await collect(inFlight);
        else if (now() >= Math.max(renewalDueAt(certLifetime(identity.certPem)), retryAt)) await begin();
      } catch (err) {
        // The bucket failed (the inbox poll reports that), or the key could not be staged or stored: try again later.
        log.warn({ err: (err as Error).message }, 'certificate renewal through the bucket failed; retrying');
        if (inFlight === undefined) retryAt = now() + Math.min(60_000, Math.max(1000, Math.floor(lifetimeMs() / 100)));
      }
    },
    pending: () => inFlight?.nonce,
  };
}
