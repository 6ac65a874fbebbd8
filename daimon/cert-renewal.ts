import { X509Certificate } from 'node:crypto';
import { certLifetime, keyMatchesCert } from '../src/pki/cert-lifetime.js';
import { generateHostKeyAndCsr } from '../src/pki/host-key.js';
import { hostUri } from '../src/pki/peer-identity.js';
import { renewalDueAt } from '../src/protocol/cert-expiry.js';
import type { DaimonFrame } from '../src/protocol/tunnel.js';
import { saveRenewedIdentity, stageNextKey, type DaimonIdentity } from './identity.js';
import type { Logger } from './provider.js';

/** The daimon's certificate renewal, driven by its tunnel. */
export interface CertRenewer {
  /** The tunnel is up and `send` reaches the CP: renew now when due, else when it becomes due. */
  onUp(send: (frame: DaimonFrame) => void): void;
  /** The tunnel is down: a question in flight will get no answer. */
  onDown(): void;
  /** The CP's `cert_renewed`. */
  onRenewed(certificate: string): void;
  /** The CP's OKS_ERR_CERT_RENEWAL: try again later. */
  onRefused(message: string): void;
  stop(): void;
}

/** Longest wait for the CP's answer to `renew_cert` before asking again later. */
const ANSWER_TIMEOUT_MS = 60_000;
// setTimeout fires at once for delays above 2^31-1 ms; a 365-day certificate is renewed after ~243 days.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Why a renewed certificate from the CP cannot replace ours (for `keyPem`), or undefined when it can. */
export function problemWith(certPem: string, keyPem: string, identity: DaimonIdentity): string | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    return 'not a certificate';
  }
  if (!cert.verify(new X509Certificate(identity.caPem).publicKey)) return 'not signed by the CP’s CA';
  if (!keyMatchesCert(keyPem, certPem)) return 'not issued for the key this daimon sent';
  if (!(cert.subjectAltName ?? '').split(', ').includes(`URI:${hostUri(identity.hostname)}`)) return `not issued to ${identity.hostname}`;
  return undefined;
}

/**
 * Renews the host's client certificate over the tunnel once a third of its lifetime is left: a fresh key (staged on
 * disk first), a CSR for the same hostname, and on the CP's answer key + certificate stored atomically (0600). The
 * new identity is handed to `onRenewed` for the next connection; the tunnel in use stays up.
 */
export function createCertRenewer(
  opts: { stateDir: string; identity: DaimonIdentity; onRenewed: (identity: DaimonIdentity) => void },
  deps: { log: Logger; now?: () => number },
): CertRenewer {
  const now = deps.now ?? Date.now;
  const log = deps.log;
  let identity = opts.identity;
  let send: ((frame: DaimonFrame) => void) | undefined;
  let pendingKey: string | undefined;
  let retryAt = 0;
  let timer: NodeJS.Timeout | undefined;

  const lifetimeMs = (): number => {
    const l = certLifetime(identity.certPem);
    return l.notAfter - l.notBefore;
  };
  const retryLater = (): void => {
    pendingKey = undefined;
    retryAt = now() + Math.min(3_600_000, Math.max(1000, Math.floor(lifetimeMs() / 10)));
    schedule();
  };
  const schedule = (): void => {
    clearTimeout(timer);
    timer = undefined;
    if (!send || pendingKey !== undefined) return;
    const at = Math.max(renewalDueAt(certLifetime(identity.certPem)), retryAt);
    const fire = (): void => {
      begin().catch((err: unknown) => {
        log.error({ err }, 'could not start the certificate renewal; retrying later');
        retryLater();
      });
    };
    timer = setTimeout(() => (now() >= at ? fire() : schedule()), Math.min(MAX_TIMER_MS, Math.max(0, at - now())));
    timer.unref();
  };
  const begin = async (): Promise<void> => {
    const to = send;
    if (!to || pendingKey !== undefined) return;
    const { keyPem, csrPem } = await generateHostKeyAndCsr(identity.hostname);
    stageNextKey(opts.stateDir, keyPem);
    pendingKey = keyPem;
    log.info({ host: identity.hostname, expires: new Date(certLifetime(identity.certPem).notAfter).toISOString() }, 'renewing the host certificate');
    to({ type: 'renew_cert', csr: csrPem });
    timer = setTimeout(() => {
      log.warn({ timeout_ms: ANSWER_TIMEOUT_MS }, 'no answer to the certificate renewal; retrying later');
      retryLater();
    }, ANSWER_TIMEOUT_MS);
    timer.unref();
  };

  return {
    onUp(fn) {
      send = fn;
      schedule();
    },
    onDown() {
      send = undefined;
      pendingKey = undefined;
      clearTimeout(timer);
    },
    onRenewed(certificate) {
      const keyPem = pendingKey;
      if (keyPem === undefined) {
        log.warn({}, 'a renewed certificate arrived unasked; ignored');
        return;
      }
      const problem = problemWith(certificate, keyPem, identity);
      if (problem) {
        log.error({ problem }, 'the renewed certificate is unusable; keeping the current one');
        retryLater();
        return;
      }
      try {
        identity = saveRenewedIdentity(opts.stateDir, identity, certificate, keyPem);
      } catch (err) {
        log.error({ err }, 'the renewed certificate could not be stored; keeping the current one');
        retryLater();
        return;
      }
      pendingKey = undefined;
      retryAt = 0;
      log.info({ host: identity.hostname, expires: new Date(certLifetime(certificate).notAfter).toISOString() }, 'host certificate renewed');
      opts.onRenewed(identity);
      schedule();
    },
    onRefused(message) {
      log.warn({ reason: message }, 'the CP refused the certificate renewal; retrying later');
      retryLater();
    },
    stop() {
      send = undefined;
      clearTimeout(timer);
    },
  };
}
