import { describe, expect, it } from 'vitest';
import { certExpiry, renewalDueAt } from '../../src/protocol/cert-expiry.js';

describe('certificate expiry', () => {
  it('renewal is due once a third of the lifetime is left', () => {
    expect(renewalDueAt({ notBefore: 0, notAfter: 9000 })).toBe(6000);
    expect(renewalDueAt({ notBefore: 1000, notAfter: 1000 + 365 * 86_400_000 })).toBe(1000 + 365 * 86_400_000 - Math.floor((365 * 86_400_000) / 3));
  });

  it.each([
    [0, 9000, 5999, 'ok'],
    [0, 9000, 6000, 'expiring'],
    [0, 9000, 8999, 'expiring'],
    [0, 9000, 9000, 'expired'],
    [null, 9000, 0, 'unknown'],
    [0, null, 0, 'unknown'],
  ] as const)('issued %s, expiring %s, at %s: %s', (issued, expires, now, standing) => {
    expect(certExpiry(issued, expires, now)).toBe(standing);
  });
});
