import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodePem, encodePem } from '../../src/pki/pem.js';

describe('encodePem', () => {
  it('wraps base64 at 64 characters with no blank lines and round-trips through decodePem', () => {
    const der = randomBytes(200);
    const pem = encodePem(der, 'CERTIFICATE');
    const lines = pem.trimEnd().split('\n');
    expect(lines[0]).toBe('-----BEGIN CERTIFICATE-----');
    expect(lines.at(-1)).toBe('-----END CERTIFICATE-----');
    // 200 bytes = 268 base64 characters = 4 full lines and one of 12
    expect(lines.slice(1, -1).map((l) => l.length)).toEqual([64, 64, 64, 64, 12]);
    expect(pem.endsWith('-----\n')).toBe(true);
    expect(decodePem(pem, 'CERTIFICATE')?.equals(der)).toBe(true);
  });

  it('accepts an ArrayBuffer', () => {
    const pem = encodePem(new Uint8Array([1, 2, 3]).buffer, 'X');
    expect(pem).toBe('-----BEGIN X-----\nAQID\n-----END X-----\n');
  });
});

describe('decodePem', () => {
  const body = 'AQID';
  it.each([
    ['a different label', `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`],
    ['mismatched END label', `-----BEGIN CERTIFICATE-----\n${body}\n-----END X-----\n`],
    ['a body that is not base64', '-----BEGIN CERTIFICATE-----\nnot*base64!\n-----END CERTIFICATE-----\n'],
    ['a body of the wrong length', '-----BEGIN CERTIFICATE-----\nAQI\n-----END CERTIFICATE-----\n'],
    ['an empty body', '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n'],
    ['no PEM at all', 'hello'],
  ])('returns undefined for %s', (_name, pem) => {
    expect(decodePem(pem, 'CERTIFICATE')).toBeUndefined();
  });

  it('tolerates CRLF line endings and surrounding text, and takes the first block', () => {
    const pem = `junk\r\n-----BEGIN CERTIFICATE-----\r\nAQ\r\nID\r\n-----END CERTIFICATE-----\r\n-----BEGIN CERTIFICATE-----\nBAUG\n-----END CERTIFICATE-----\n`;
    expect([...(decodePem(pem, 'CERTIFICATE') ?? [])]).toEqual([1, 2, 3]);
  });
});
