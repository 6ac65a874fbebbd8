/** Fields every certificate Okesu issues shares: serial and validity. */
import { randomBytes } from 'node:crypto';

const DAY_MS = 86_400_000;
// notBefore is backdated so that a peer whose clock runs a little behind still accepts a fresh certificate.
const CLOCK_SKEW_MS = 5 * 60_000;

/** notBefore (backdated by the skew allowance) and notAfter of a certificate issued at `now` for `days`. */
export function validity(now: Date, days: number): { notBefore: Date; notAfter: Date } {
  return validityMs(now, days * DAY_MS);
}

/**
 * Like {@link validity} with the lifetime in milliseconds; notAfter is cut to whole seconds, as X.509 times are. The
 * backdating is at most a tenth of the lifetime, so a short-lived certificate's window (from which the daimon times
 * its renewal) stays close to what was asked.
 */
export function validityMs(now: Date, lifetimeMs: number): { notBefore: Date; notAfter: Date } {
  const notAfter = Math.floor((now.getTime() + lifetimeMs) / 1000) * 1000;
  return { notBefore: new Date(now.getTime() - Math.min(CLOCK_SKEW_MS, Math.floor(lifetimeMs / 10))), notAfter: new Date(notAfter) };
}

/**
 * A fresh certificate serial, hex: 16 random bytes with the top bit clear (a positive DER INTEGER) and the next set (no
 * leading zero byte to drop), with the top bit clear (a positive DER INTEGER) and the next set (no leading zero byte to drop),
 * so the serial is always 32 hex digits and compares equal with Node's rendering after normaliseSerial.
 */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] as number) & 0x3f) | 0x40;
  return bytes.toString('hex');
}
