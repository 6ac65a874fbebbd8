import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { formatToken, type ParsedToken, type TokenKind } from '../protocol/tokens.js';

/** SHA-256 hex of a token secret: the only form in which the CP stores it. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Constant-time check of a secret against a stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Mints a new token of `kind`: its printable text, its parts and the hash to store. */
export function mintToken(kind: TokenKind, pin?: string): { text: string; parsed: ParsedToken; hash: string } {
  const parsed: ParsedToken = { kind, id: randomBytes(8).toString('hex'), secret: randomBytes(32).toString('hex'), pin };
  return { text: formatToken(parsed), parsed, hash: hashSecret(parsed.secret) };
}
