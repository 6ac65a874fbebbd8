/** A certificate's validity window, in ms since the epoch. */
export interface CertLifetime {
  notBefore: number;
  notAfter: number;
}

/** Shortest client-certificate lifetime `cp serve --host-cert-ttl` accepts: a daimon renews at a third of it. */
export const MIN_HOST_CERT_TTL_MS = 3_600_000;
/** Longest: the CA's own lifetime (10 years). */
export const MAX_HOST_CERT_TTL_MS = 3650 * 86_400_000;

/** Renewal starts when this fraction of a certificate's lifetime is left. */
export const RENEW_WHEN_LEFT = 1 / 3;

/** When a certificate with this window should be renewed: once a third of its lifetime is left. */
export function renewalDueAt(l: CertLifetime): number {
  return l.notAfter - Math.floor((l.notAfter - l.notBefore) * RENEW_WHEN_LEFT);
}

/** How a host's identity stands: `ok`, `expiring` (renewal due: a third of its lifetime or less left), `expired`, or `unknown`. */
export type CertExpiry = 'ok' | 'expiring' | 'expired' | 'unknown';

/** The standing of an identity issued at `issuedAt` and expiring at `expiresAt` (null: the CP did not say). */
export function certExpiry(issuedAt: number | null, expiresAt: number | null, now: number): CertExpiry {
  if (issuedAt === null || expiresAt === null) return 'unknown';
  if (now >= expiresAt) return 'expired';
  return now >= renewalDueAt({ notBefore: issuedAt, notAfter: expiresAt }) ? 'expiring' : 'ok';
}
