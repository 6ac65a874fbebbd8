import { describe, expect, it } from 'vitest';
import { extractIndicators, type Indicator } from '../../../src/cp/findings/indicators.js';
import { seededInt } from '../../support/seeded-pick.js';

// The extractor as it was before its cheap pre-checks: every pattern over the whole text.
function reference(text: string): Indicator[] {
  const found = new Map<string, Indicator>();
  const add = (kind: Indicator['kind'], value: string): void => {
    const key = `${kind}:${value}`;
    if (found.size < 50 && !found.has(key)) found.set(key, { kind, value });
  };
  for (const m of text.matchAll(/\bhttps?:\/\/[^\s"'<>\\]{1,2048}/gi)) add('url', m[0]);
  for (const m of text.matchAll(/\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b/g)) if (!['0.0.0.0', '127.0.0.1', '255.255.255.255'].includes(m[0])) add('ip', m[0]);
  for (const m of text.matchAll(/\bCVE-\d{4}-\d{4,7}\b/gi)) add('cve', m[0].toUpperCase());
  for (const m of text.matchAll(/\b(?:[a-f0-9]{64}|[a-f0-9]{40}|[a-f0-9]{32})\b/gi)) add('hash', m[0].toLowerCase());
  for (const m of text.matchAll(/\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:com|net|org|io|ru|cn|xyz|top|info|biz|co|me|cc|tk|onion|dev|app|cloud|site|online)\b/gi)) add('domain', m[0].toLowerCase());
  return [...found.values()];
}

const PIECES = [
  'pid 42', ' ', '\n', 'evil.com', 'Evil.COM.', 'a.co', 'x.cox', 'sub.domain.online', '10.0.0.1', '0.0.0.0', '1.2.3', '256.1.1.1',
  'CVE-2024-12345', 'cve-1999-0001', 'D41D8CD98F00B204E9800998ECF8427E', 'da39a3ee5e6b4b0d3255bfef95601890afd80709', 'abc', '\u0010\u0011',
  'https://evil.com/x?y=1', 'http://10.1.2.3:80/', '"', ':', 'é', '/usr/bin/tool', 'f'.repeat(31), 'e'.repeat(64), '.io', 'node.js',
];

describe('extractIndicators', () => {
  it('finds what every pattern over the whole text finds', () => {
    const next = seededInt(1);
    for (let i = 0; i < 3000; i++) {
      const text = Array.from({ length: 1 + next(8) }, () => PIECES[next(PIECES.length)] as string).join(next(2) ? ' ' : '');
      expect(extractIndicators(text), text).toEqual(reference(text));
    }
  });
});
