import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { clusterKeyFrom, createClusterKeyFile, open, readClusterKey, seal, type ClusterKey } from '../../../src/cp/cluster/cluster-key.js';
import type { OkesuError } from '../../../src/errors.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'okesu-cluster-key-'));
  dirs.push(d);
  return d;
}

function thrown(fn: () => unknown): OkesuError {
  try {
    fn();
  } catch (err) {
    return err as OkesuError;
  }
  throw new Error('did not throw');
}

function newKey(): { key: ClusterKey; path: string; text: string } {
  const path = join(tempDir(), 'cluster.key');
  createClusterKeyFile(path);
  return { key: readClusterKey(path), path, text: readFileSync(path, 'utf8').trim() };
}

describe('the cluster key file', () => {
  it('is 32 random bytes in base64, mode 0600, in a directory created 0700; read back as the same key', () => {
    const path = join(tempDir(), 'etc', 'okesu', 'cluster.key');
    const previous = process.umask(0);
    try {
      createClusterKeyFile(path);
    } finally {
      process.umask(previous);
    }
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700);
    const text = readFileSync(path, 'utf8');
    expect(text).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
    expect(readClusterKey(path).bytes.equals(Buffer.from(text.trim(), 'base64'))).toBe(true);
    // Two files, two keys.
    expect(newKey().key.bytes.equals(readClusterKey(path).bytes)).toBe(false);
  });

  it('is never overwritten', () => {
    const { path, text } = newKey();
    const err = thrown(() => createClusterKeyFile(path));
    expect(err.code).toBe('OKS_ERR_CLUSTER_KEY');
    expect(err.message).toContain('refusing to overwrite');
    expect(readFileSync(path, 'utf8').trim()).toBe(text);
  });

  it.each([0o640, 0o604, 0o644, 0o660, 0o606])('is refused when group or others may read or write it (mode %o), saying why and without quoting it', (mode) => {
    const { path, text } = newKey();
    chmodSync(path, mode);
    const err = thrown(() => readClusterKey(path));
    expect(err.code).toBe('OKS_ERR_CLUSTER_KEY');
    expect(err.message).toContain('readable by group or others');
    expect(err.message).toContain("gives the CP's CA key");
    expect(err.message).toContain(`chmod 600 ${path}`);
    expect(err.message).not.toContain(text);
  });

  it('is accepted at 0400', () => {
    const { path, key } = newKey();
    chmodSync(path, 0o400);
    expect(readClusterKey(path).bytes.equals(key.bytes)).toBe(true);
  });

  it('names the command that makes one when it is missing', () => {
    const err = thrown(() => readClusterKey(join(tempDir(), 'absent.key')));
    expect(err.code).toBe('OKS_ERR_CLUSTER_KEY');
    expect(err.message).toContain('okesu cp cluster-key --out');
  });

  it.each([
    ['empty', ''],
    ['not base64', 'not a key at all!'],
    ['31 bytes', Buffer.alloc(31, 7).toString('base64')],
    ['33 bytes', Buffer.alloc(33, 7).toString('base64')],
    ['base64url', Buffer.alloc(32, 0xfb).toString('base64url')],
  ])('refuses a file that holds no key (%s), without quoting it', (_name, content) => {
    const path = join(tempDir(), 'cluster.key');
    writeFileSync(path, content, { mode: 0o600 });
    const err = thrown(() => readClusterKey(path));
    expect(err.code).toBe('OKS_ERR_CLUSTER_KEY');
    expect(err.message).toContain('does not hold a cluster key');
    if (content) expect(err.message).not.toContain(content);
  });

  it('never shows its bytes when printed, serialised or logged', () => {
    const { key, text } = newKey();
    const lines: string[] = [];
    const log = pino({ level: 'info' }, new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) }));
    log.info({ key, nested: { key } }, 'oops');
    for (const shown of [JSON.stringify({ key }), inspect(key), String(key), `${inspect({ key })}`, lines.join('')]) {
      expect(shown).not.toContain(text);
      expect(shown).not.toContain(key.bytes.toString('hex'));
    }
    expect(JSON.stringify({ key })).toBe('{"key":"[cluster key]"}');
  });
});

describe('seal and open', () => {
  const key = clusterKeyFrom(Buffer.alloc(32, 1));
  const other = clusterKeyFrom(Buffer.alloc(32, 2));

  it('round-trips under the same key and aad, in a v1 envelope with a fresh nonce each time', () => {
    const a = seal(key, 'secret text', 'cluster.ca');
    const b = seal(key, 'secret text', 'cluster.ca');
    expect(a).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(a).not.toBe(b);
    expect(open(key, a, 'cluster.ca').toString()).toBe('secret text');
    expect(open(key, seal(key, Buffer.from([0, 255, 1]), 'x'), 'x')).toEqual(Buffer.from([0, 255, 1]));
    expect(open(key, seal(key, '', 'x'), 'x')).toEqual(Buffer.alloc(0));
  });

  it('under another key fails with the cluster key error', () => {
    const err = thrown(() => open(other, seal(key, 'secret', 'cluster.ca'), 'cluster.ca'));
    expect(err.code).toBe('OKS_ERR_CLUSTER_KEY');
    expect(err.message).toContain("this replica's cluster key does not match the one that initialised the store");
  });

  it('does not open under another name (aad): a sealed value cannot be moved', () => {
    const err = thrown(() => open(key, seal(key, 'secret', 'cluster.ca'), 'cluster.server.x'));
    expect(err.code).toBe('OKS_ERR_CLUSTER_KEY');
  });

  it.each([
    ['version', (s: string) => s.replace(/^v1/, 'v2'), 'not a v1 envelope'],
    ['nonce', (s: string) => flipIn(s, 1), 'cannot open'],
    ['ciphertext', (s: string) => flipIn(s, 2, 0), 'cannot open'],
    ['tag', (s: string) => flipIn(s, 2, -1), 'cannot open'],
    ['truncated', (s: string) => s.slice(0, s.length - 4), 'cannot open'],
    ['no tag', (s: string) => s.split('.').slice(0, 2).join('.') + '.AAAA', 'not a v1 envelope'],
    ['extra part', (s: string) => `${s}.AAAA`, 'not a v1 envelope'],
    ['not base64url', (s: string) => `${s}+`, 'not a v1 envelope'],
  ])('detects a tampered envelope (%s)', (_name, tamper, expected) => {
    const err = thrown(() => open(key, tamper(seal(key, 'secret text', 'n')), 'n'));
    expect(err.code).toBe('OKS_ERR_CLUSTER_KEY');
    expect(err.message).toContain(expected);
  });
});

/** Flips one bit of part `part` of an envelope, at byte `at` of its decoded bytes (negative: from the end). */
function flipIn(sealed: string, part: number, at = 0): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[part] as string, 'base64url');
  const i = at < 0 ? bytes.length + at : at;
  bytes[i] = (bytes[i] as number) ^ 1;
  parts[part] = bytes.toString('base64url');
  return parts.join('.');
}
