import { readFileSync, rmSync, statSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TICKET_KEYS_FILE, loadTicketKeys } from '../../src/cp/tls-tickets.js';

const PERIOD = 1000;
let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('TLS session-ticket keys', () => {
  it('creates 48 bytes (0600), keeps them while younger than the period, replaces them after', () => {
    const d = (dir = mkdtempSync(join(tmpdir(), 'okesu-tickets-')));
    const first = loadTicketKeys(d, 10_000, PERIOD);
    expect(first.keys).toHaveLength(48);
    expect(statSync(join(d, TICKET_KEYS_FILE)).mode & 0o777).toBe(0o600);
    expect(loadTicketKeys(d, 10_999, PERIOD).keys.equals(first.keys)).toBe(true);
    const later = loadTicketKeys(d, 11_000, PERIOD);
    expect(later.keys.equals(first.keys)).toBe(false);
    expect(later.createdAt).toBe(11_000);
    // Keys from the future (a clock set back) are not trusted either.
    expect(loadTicketKeys(d, 5000, PERIOD).keys.equals(later.keys)).toBe(false);
  });

  it.each([['not JSON', '{'], ['short keys', JSON.stringify({ created_at: 1, keys: 'AAAA' })], ['no time', JSON.stringify({ keys: Buffer.alloc(48).toString('base64') })]])(
    'replaces a damaged file (%s)',
    (_name, text) => {
      const d = (dir = mkdtempSync(join(tmpdir(), 'okesu-tickets-')));
      writeFileSync(join(d, TICKET_KEYS_FILE), text);
      const keys = loadTicketKeys(d, 10, PERIOD);
      expect(keys.keys).toHaveLength(48);
      expect(JSON.parse(readFileSync(join(d, TICKET_KEYS_FILE), 'utf8'))).toMatchObject({ created_at: 10 });
    },
  );
});
