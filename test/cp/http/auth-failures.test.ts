import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { addressKey, createAuthFailures, RateLimitedError, type AuthLimitOptions } from '../../../src/cp/http/auth-failures.js';

function setup(limit: Partial<AuthLimitOptions>) {
  let t = 1_000_000;
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const f = createAuthFailures(limit, { log: pino({ level: 'info' }, sink), now: () => t });
  const refused = (remote: string): number | undefined => {
    try {
      f.gate('register', remote);
      return undefined;
    } catch (err) {
      if (err instanceof RateLimitedError) return err.retryAfterS;
      throw err;
    }
  };
  return { f, lines, refused, advance: (ms: number) => (t += ms) };
}

describe('addressKey', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['::ffff:10.0.0.7', '10.0.0.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:0DB8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    [undefined, 'unknown'],
  ])('%s → %s', (remote, key) => {
    expect(addressKey(remote)).toBe(key);
  });
});

describe('createAuthFailures', () => {
  it('refuses an address once its burst of failures is spent, with Retry-After, until the budget refills', () => {
    const { f, refused, advance } = setup({ burst: 3, refillPerS: 0.5 });
    for (let i = 0; i < 3; i++) {
      expect(refused('10.0.0.1')).toBeUndefined();
      f.fail('register', '10.0.0.1', 'OKS_ERR_TOKEN_INVALID');
    }
    // Budget 0, and the refusal costs one more: back at 1 after (1 - -1) / 0.5 = 4 s.
    expect(refused('10.0.0.1')).toBe(4);
    expect(refused('10.0.0.2')).toBeUndefined(); // another address is not affected
    advance(4000);
    expect(refused('10.0.0.1')).toBeUndefined();
    f.fail('register', '10.0.0.1', 'OKS_ERR_TOKEN_INVALID');
    expect(refused('10.0.0.1')).toBe(4);
    expect(f.snapshot()).toEqual({
      failures: { operator: {}, register: { OKS_ERR_TOKEN_INVALID: 4 }, tunnel: {} },
      limited: { operator: 0, register: 2, tunnel: 0 },
      dropped: 0,
      addresses: 1,
    });
  });

  it('closes the connections of an address that ignores Retry-After until it backs off', () => {
    const { f, refused, advance } = setup({ burst: 3, refillPerS: 1 });
    for (let i = 0; i < 3; i++) f.fail('operator', '10.0.0.1', 'OKS_ERR_TOKEN_INVALID');
    expect(f.admit('10.0.0.1')).toBe(true);
    expect([refused('10.0.0.1'), refused('10.0.0.1'), refused('10.0.0.1'), refused('10.0.0.1')]).toEqual([2, 3, 4, 4]); // floor -3
    expect(f.admit('10.0.0.1')).toBe(false);
    expect(f.admit('10.0.0.2')).toBe(true);
    advance(1000);
    expect(f.admit('10.0.0.1')).toBe(false);
    advance(1000);
    expect(f.admit('10.0.0.1')).toBe(true);
    advance(2000);
    expect(refused('10.0.0.1')).toBeUndefined();
    expect(f.snapshot()).toMatchObject({ limited: { register: 4 }, dropped: 2 });
  });

  it('keeps one budget per address across kinds, and IPv6 addresses of one /64 share it', () => {
    const { f, refused } = setup({ burst: 2, refillPerS: 1 });
    f.fail('operator', '2001:db8:1:2::10', 'OKS_ERR_TOKEN_INVALID');
    f.fail('tunnel', '2001:db8:1:2::11', 'OKS_ERR_CLIENT_CERT_REQUIRED');
    expect(refused('2001:db8:1:2::12')).toBe(2);
    expect(refused('2001:db8:1:3::12')).toBeUndefined();
  });

  it('never keeps state for an address that did not fail', () => {
    const { f, refused } = setup({});
    for (let i = 0; i < 100; i++) expect(refused(`10.0.${i}.1`)).toBeUndefined();
    expect(f.snapshot().addresses).toBe(0);
  });

  it('stays within maxAddresses, forgetting the least recently failing address first', () => {
    const { f, refused } = setup({ burst: 1, refillPerS: 0.001, maxAddresses: 3 });
    for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']) f.fail('register', a, 'OKS_ERR_TOKEN_INVALID');
    expect(f.snapshot().addresses).toBe(3);
    expect(refused('10.0.0.1')).toBeUndefined();
    expect(refused('10.0.0.4')).toBeGreaterThan(0);
  });

  it('forgets addresses whose budget has refilled', () => {
    const { f, advance } = setup({ burst: 4, refillPerS: 2 });
    f.fail('register', '10.0.0.1', 'OKS_ERR_TOKEN_INVALID');
    advance(2000);
    f.fail('register', '10.0.0.2', 'OKS_ERR_TOKEN_INVALID');
    expect(f.snapshot().addresses).toBe(1);
  });

  it('logs each failure with kind, address and code, and a refused address once per empty spell', () => {
    const { f, lines, refused } = setup({ burst: 1, refillPerS: 1 });
    f.fail('tunnel', '::ffff:10.0.0.9', 'OKS_ERR_HOST_MISMATCH', 'the credential belongs to a, the certificate to b');
    for (let i = 0; i < 5; i++) refused('10.0.0.9');
    expect(lines.map(({ msg, kind, remote, code, detail }) => ({ msg, kind, remote, code, detail }))).toEqual([
      { msg: 'authentication failed', kind: 'tunnel', remote: '::ffff:10.0.0.9', code: 'OKS_ERR_HOST_MISMATCH', detail: 'the credential belongs to a, the certificate to b' },
      { msg: 'too many failed authentications; refusing this address for now', kind: 'register', remote: '10.0.0.9', code: undefined, detail: undefined },
    ]);
    expect(f.snapshot().limited.register).toBe(5);
  });

  it('with burst 0 only counts and logs, never refuses', () => {
    const { f, refused } = setup({ burst: 0 });
    for (let i = 0; i < 50; i++) f.fail('operator', '10.0.0.1', 'OKS_ERR_TOKEN_INVALID');
    expect(refused('10.0.0.1')).toBeUndefined();
    expect(f.snapshot()).toMatchObject({ failures: { operator: { OKS_ERR_TOKEN_INVALID: 50 } }, addresses: 0 });
  });
});

describe('a trusted proxy (the balancer in front of replicas)', () => {
  it('is never limited, so one bad client behind it cannot lock out the others; its failures are still counted and logged', () => {
    const { f, lines, refused } = setup({ burst: 3, refillPerS: 0.001, trusted: ['10.0.0.1'] });
    for (let i = 0; i < 50; i++) f.fail('tunnel', '::ffff:10.0.0.1', 'OKS_ERR_TOKEN_REVOKED');
    for (let i = 0; i < 10; i++) expect(refused('10.0.0.1')).toBeUndefined();
    expect(f.admit('10.0.0.1')).toBe(true);
    expect(f.snapshot().failures.tunnel['OKS_ERR_TOKEN_REVOKED']).toBe(50);
    expect(lines.filter((l) => l['msg'] === 'authentication failed')).toHaveLength(50);
    // Anyone else is limited as before.
    for (let i = 0; i < 10; i++) f.fail('tunnel', '10.0.0.2', 'OKS_ERR_TOKEN_REVOKED');
    expect(refused('10.0.0.2')).toBeGreaterThan(0);
    for (let i = 0; i < 10; i++) refused('10.0.0.2');
    expect(f.admit('10.0.0.2')).toBe(false);
  });
});
