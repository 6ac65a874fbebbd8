import { createCipheriv, createDecipheriv, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import type { Sealed } from '../../protocol/bucket-objects.js';

/**
 * Seals a secret to one public key (the registration answer's host credential): an ephemeral P-256 key agrees a
 * secret with the recipient's (ECDH), HKDF-SHA256 derives an AES-256-GCM key, and `info` binds it to its use. Only
 * the holder of the recipient's private key — the daimon whose CSR it was — can open it; the bucket sees ciphertext.
 */
export function seal(recipient: KeyObject, plaintext: string, info: string): Sealed {
  if (recipient.asymmetricKeyType !== 'ec') throw new Error('sealing needs an EC P-256 recipient key');
  const eph = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const shared = diffieHellman({ privateKey: eph.privateKey, publicKey: recipient });
  const key = Buffer.from(hkdfSync('sha256', shared, Buffer.alloc(0), info, 32));
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return {
    epk: (eph.publicKey.export({ type: 'spki', format: 'der' }) as Buffer).toString('base64'),
    iv: iv.toString('base64'), ct: ct.toString('base64'), tag: cipher.getAuthTag().toString('base64'),
  };
}

/** Opens what `seal` sealed to `privateKey`'s public half; throws when it was not (or was tampered with). */
export function unseal(privateKey: KeyObject, sealed: Sealed, info: string): string {
  const epk = createPublicKey({ key: Buffer.from(sealed.epk, 'base64'), format: 'der', type: 'spki' });
  const shared = diffieHellman({ privateKey, publicKey: epk });
  const key = Buffer.from(hkdfSync('sha256', shared, Buffer.alloc(0), info, 32));
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
  decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
  return Buffer.concat([decipher.update(Buffer.from(sealed.ct, 'base64')), decipher.final()]).toString('utf8');
}
