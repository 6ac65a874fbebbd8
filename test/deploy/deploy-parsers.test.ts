import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseTarget } from '../../src/deploy/target.js';
import { findKnownKeys, knownHostsName } from '../../src/deploy/known-hosts.js';
import { checkHostKey, sshFingerprint } from '../../src/deploy/host-key-check.js';
import { parseProbe, platformRefusal } from '../../src/deploy/probe.js';
import { readInstallResult } from '../../src/protocol/install-outcome.js';
import { shellQuote } from '../../src/deploy/shell-quote.js';
import { sshTargetSchema } from '../../src/protocol/deploy-api.js';

describe('parseTarget', () => {
  it.each([
    ['web-01', 'ops@web-01:22'],
    ['root@web-01', 'root@web-01:22'],
    ['root@10.0.0.5:2222', 'root@10.0.0.5:2222'],
    ['web-01.example.com:22', 'ops@web-01.example.com:22'],
    ['root@[::1]:2200', 'root@[::1]:2200'],
    ['[fe80::1]', 'ops@[fe80::1]:22'],
    ['fe80::1', 'ops@[fe80::1]:22'],
  ])('%s → %s (and the CP accepts the normal form)', (text, want) => {
    const t = parseTarget(text, 'ops');
    expect(t.text).toBe(want);
    expect(sshTargetSchema.safeParse(t.text).success).toBe(true);
  });

  it.each([
    ['root@web 01', 'the host must be a name'],
    ['ro ot@web', 'the user must be'],
    ['root@web:0', 'the port must be 1-65535'],
    ['root@web:70000', 'the port must be 1-65535'],
    ['root@web:ssh', 'the port must be 1-65535'],
    ['root@[::1', 'missing "]"'],
    ['root@[web]:22', 'not an IPv6 address'],
    ['root@;rm -rf /', 'the host must be'],
  ])('refuses %s (%s)', (text, why) => {
    expect(() => parseTarget(text, 'ops')).toThrow(why);
  });
});

describe('known_hosts', () => {
  const blob = Buffer.from('ssh-ed25519 test key blob');
  const b64 = blob.toString('base64');
  const fp = sshFingerprint(blob);
  const other = Buffer.from('another key');
  const salt = Buffer.from('0123456789abcdef0123');
  const hashed = (name: string): string => `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;

  it('fingerprints like OpenSSH (SHA256, unpadded base64)', () => {
    expect(fp).toBe(`SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`);
    expect(fp).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it('finds plain, bracketed-port, hashed, listed and wildcard names; skips comments, CA lines and garbage; collects @revoked', () => {
    const text = [
      '# comment', '', 'garbage',
      `web-01,10.0.0.5 ssh-ed25519 ${b64}`,
      `[web-01]:2222 ssh-ed25519 ${other.toString('base64')}`,
      `${hashed('[db-01]:2200')} ssh-ed25519 ${b64}`,
      `*.prod,!bad.prod ssh-ed25519 ${b64}`,
      `@cert-authority * ssh-ed25519 ${other.toString('base64')}`,
      `@revoked web-02 ssh-ed25519 ${other.toString('base64')}`,
    ].join('\n');
    expect(findKnownKeys(text, 'web-01', 22).fingerprints).toEqual([fp]);
    expect(findKnownKeys(text, '10.0.0.5', 22).fingerprints).toEqual([fp]);
    expect(findKnownKeys(text, 'web-01', 2222).fingerprints).toEqual([sshFingerprint(other)]);
    expect(findKnownKeys(text, 'db-01', 2200).fingerprints).toEqual([fp]);
    expect(findKnownKeys(text, 'db-01', 22).fingerprints).toEqual([]);
    expect(findKnownKeys(text, 'api.prod', 22).fingerprints).toEqual([fp]);
    expect(findKnownKeys(text, 'bad.prod', 22).fingerprints).toEqual([]);
    expect(findKnownKeys(text, 'web-02', 22)).toEqual({ fingerprints: [], revoked: [sshFingerprint(other)] });
    expect(knownHostsName('h', 22)).toBe('h');
    expect(knownHostsName('h', 2)).toBe('[h]:2');
  });

  it('accepts a listed or first-seen key, refuses a changed, revoked or unknown one with the reason', () => {
    expect(checkHostKey(fp, { kind: 'pin', pinned: null })).toEqual({ ok: true, firstUse: true });
    expect(checkHostKey(fp, { kind: 'pin', pinned: fp })).toEqual({ ok: true, firstUse: false });
    const changed = checkHostKey(fp, { kind: 'pin', pinned: sshFingerprint(other) });
    expect(changed).toMatchObject({ ok: false, changed: true });
    expect(!changed.ok && changed.reason).toContain('host key changed');
    const kh = { kind: 'known_hosts', file: 'kh' } as const;
    expect(checkHostKey(fp, { ...kh, fingerprints: [fp], revoked: [] }).ok).toBe(true);
    expect(checkHostKey(fp, { ...kh, fingerprints: [sshFingerprint(other)], revoked: [] })).toMatchObject({ ok: false, changed: true });
    expect(checkHostKey(fp, { ...kh, fingerprints: [], revoked: [] })).toMatchObject({ ok: false, changed: false });
    expect(checkHostKey(fp, { ...kh, fingerprints: [fp], revoked: [fp] })).toMatchObject({ ok: false, changed: true });
  });
});

describe('the probe', () => {
  it('reads uname, hostname and the init system', () => {
    expect(parseProbe('Linux x86_64\nweb-01\nsystemd\n')).toEqual({ os: 'Linux', arch: 'x86_64', hostname: 'web-01', init: 'systemd' });
    // With --hostname the host's own unusable name does not stop the deploy.
    expect(() => parseProbe('Linux x86_64\nbad_name!\nnone\n')).toThrow(/pass --hostname/);
    expect(parseProbe('Linux x86_64\nbad_name!\nnone\n', true)).toEqual({ os: 'Linux', arch: 'x86_64', hostname: '', init: 'none' });
  });
  it.each([
    ['', 'unexpected "uname -sm"'],
    ['Linux x86_64\nnot a name!\nnone\n', 'not a usable name'],
    ['Linux x86_64\nweb\nupstart\n', 'unexpected init-system'],
  ])('refuses %j', (text, why) => {
    expect(() => parseProbe(text)).toThrow(why);
  });
  it('refuses other platforms and systemd-less hosts unless --init none', () => {
    const linux = { os: 'Linux', arch: 'x86_64', hostname: 'h', init: 'none' } as const;
    expect(platformRefusal({ ...linux, arch: 'aarch64' }, 'none')).toContain('unsupported platform: Linux aarch64');
    expect(platformRefusal({ ...linux, os: 'Darwin', arch: 'arm64' }, 'none')).toContain('unsupported platform');
    expect(platformRefusal(linux, 'systemd')).toContain('--init none');
    expect(platformRefusal(linux, 'none')).toBeUndefined();
    expect(platformRefusal({ ...linux, init: 'systemd' }, 'systemd')).toBeUndefined();
  });
});

describe('the install outcome', () => {
  const line = '{"outcome":"installed","hostname":"web-01","version":"0.1.0","state_dir":"/var/lib/okesu"}';
  it('is the last JSON line that matches, after logs', () => {
    expect(readInstallResult(`{"level":30,"msg":"x"}\n${line}\n`)).toMatchObject({ outcome: 'installed', hostname: 'web-01' });
    expect(readInstallResult(JSON.stringify(JSON.parse(line), null, 2))).toMatchObject({ outcome: 'installed' });
    expect(readInstallResult(`web-01: installed\n{"not": "it"}\n${JSON.stringify(JSON.parse(line), null, 2)}\n`)).toMatchObject({ outcome: 'installed' });
    expect(readInstallResult('installed\n')).toBeUndefined();
    expect(readInstallResult('{"outcome":"pwned"}')).toBeUndefined();
  });
  it('quotes shell words', () => {
    expect(shellQuote('https://127.0.0.1:8443')).toBe('https://127.0.0.1:8443');
    expect(shellQuote("it's $(x)")).toBe("'it'\\''s $(x)'");
  });
});
