import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/** The header carrying a message's signature. */
export const SIGNATURE_HEADER = 'Okesu-Sig';

/**
 * Signs and checks what replicas send each other over NATS. Anyone who can publish on the NATS server could otherwise
 * forge feed entries (firing finding triggers), tunnel moves or host reports, or ask a replica to hand a dispatch to a
 * host, past the operator API's authorisation and audit. Every message, request and reply carries an HMAC-SHA256 over
 * its subject, its origin replica and its bytes, keyed by a secret derived from the cluster key; one that does not
 * verify is dropped before it is parsed.
 */
export interface BusSigner {
  sign(subject: string, origin: string, data: Uint8Array): string;
  verify(subject: string, origin: string, data: Uint8Array, signature: string | undefined): boolean;
}

/** The bus secret: HKDF of the cluster key's bytes under its own label (the key itself only seals store values). */
export function busSecretFrom(clusterKeyBytes: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', clusterKeyBytes, Buffer.alloc(0), 'okesu bus hmac v1', 32));
}

export function createBusSigner(secret: Buffer): BusSigner {
  const mac = (subject: string, origin: string, data: Uint8Array): Buffer =>
    createHmac('sha256', secret).update(`${subject}\n${origin}\n`).update(data).digest();
  return {
    sign: (subject, origin, data) => mac(subject, origin, data).toString('base64url'),
    verify(subject, origin, data, signature) {
      if (signature === undefined || !/^[A-Za-z0-9_-]{43}$/.test(signature)) return false;
      return timingSafeEqual(mac(subject, origin, data), Buffer.from(signature, 'base64url'));
    },
  };
}
