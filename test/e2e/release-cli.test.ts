import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml, parse as parseYaml } from 'yaml';
import type { ReleaseView } from '../../src/protocol/release.js';
import { okesuJson, runOkesu, startCp, stop, tempDir, type CpProcess } from './harness.js';

const dir = tempDir('release');
let cp: CpProcess;
let publicKey = '';
const key = join(dir, 'release.key');
const fileKey = join(dir, 'second.key');

/** Writes `size` random bytes to `name` in the test dir; returns the path. */
function artifact(name: string, size: number): string {
  const path = join(dir, name);
  writeFileSync(path, randomBytes(size));
  return path;
}

beforeAll(async () => {
  const gen = await runOkesu(['release', 'keygen', '--out', key]);
  expect(gen.code, gen.stderr).toBe(0);
  publicKey = gen.stdout.trim();
  const second = await runOkesu(['release', 'keygen', '--out', fileKey]);
  // The second key reaches the CP from a file of keys (one a line, comments allowed).
  writeFileSync(join(dir, 'keys.txt'), `# release keys\n${second.stdout.trim()}\n\n`);
  cp = await startCp(join(dir, 'cp'), 0, ['--release-key', publicKey, '--release-key', join(dir, 'keys.txt'), '--keep-releases', '2']);
}, 30_000);
afterAll(async () => {
  await stop(cp?.proc);
  rmSync(dir, { recursive: true, force: true });
});

describe('okesu release (real CP)', () => {
  it('keygen writes a 0600 PKCS#8 key, prints the public key and its id, and never overwrites', async () => {
    expect(publicKey).toMatch(/^ed25519:[A-Za-z0-9+/]{43}=$/);
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(readFileSync(key, 'utf8')).toContain('BEGIN PRIVATE KEY');
    const again = await runOkesu(['release', 'keygen', '--out', key]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/OKS_ERR_RELEASE_KEY.*refusing to overwrite/);
  });

  it('add signs and uploads a large artifact streamed; list shows it', async () => {
    const big = artifact('okesu-1.0.0', 24 * 1024 * 1024);
    const add = await runOkesu(['release', 'add', big, '--version', '1.0.0', '--key', key], cp.env);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toMatch(/release 1\.0\.0 stored: 25\.2 MB/);
    expect(readFileSync(join(cp.stateDir, 'releases', '1.0.0', 'artifact')).equals(readFileSync(big))).toBe(true);
    const list = await okesuJson<ReleaseView[]>(['release', 'list'], cp.env);
    expect(list).toMatchObject([{ version: '1.0.0', size: 24 * 1024 * 1024, uploaded_by: 'admin' }]);
    const table = await runOkesu(['release', 'list'], cp.env);
    expect(table.stdout).toMatch(/VERSION\s+PLATFORM\s+SIZE/);
    expect(table.stdout).toMatch(/1\.0\.0\s+linux-x64\s+25\.2 MB/);
  }, 30_000);

  it('sign writes release.json without uploading; add --signed uploads it (a key the CP read from a file)', async () => {
    const art = artifact('okesu-1.1.0', 100_000);
    const out = join(dir, 'release-1.1.0.json');
    const sign = await runOkesu(['release', 'sign', art, '--version', '1.1.0', '--key', fileKey, '--out', out]);
    expect(sign.code, sign.stderr).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toHaveProperty('signature');
    expect((await okesuJson<ReleaseView[]>(['release', 'list'], cp.env)).map((r) => r.version)).toEqual(['1.0.0']);
    const add = await runOkesu(['release', 'add', art, '--signed', out], cp.env);
    expect(add.code, add.stderr).toBe(0);
    // Another artifact under that signature is caught before it is sent.
    const wrong = await runOkesu(['release', 'add', artifact('other', 100_000), '--signed', out], cp.env);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/OKS_ERR_RELEASE_MISMATCH/);
  });

  it('refuses a release signed by a key the CP does not trust, keeping nothing', async () => {
    const rogue = join(dir, 'rogue.key');
    await runOkesu(['release', 'keygen', '--out', rogue]);
    const add = await runOkesu(['release', 'add', artifact('rogue', 16 * 1024 * 1024), '--version', '1.2.0', '--key', rogue], cp.env);
    expect(add.code).toBe(1);
    expect(add.stderr).toMatch(/OKS_ERR_RELEASE_UNTRUSTED/);
    expect((await okesuJson<ReleaseView[]>(['release', 'list'], cp.env)).map((r) => r.version)).not.toContain('1.2.0');
  });

  it('lets a viewer list but not add', async () => {
    const token = (await runOkesu(['token', 'create', '--role', 'viewer'], cp.env)).stdout.trim();
    const config = join(dir, 'viewer.yaml');
    const admin = parseYaml(readFileSync(cp.env.OKESU_CONFIG as string, 'utf8')) as Record<string, unknown>;
    writeFileSync(config, toYaml({ ...admin, token }));
    const add = await runOkesu(['release', 'add', artifact('v', 1000), '--version', '1.3.0', '--key', key, '--config', config]);
    expect(add.code).toBe(1);
    expect(add.stderr).toMatch(/OKS_ERR_FORBIDDEN/);
    expect((await runOkesu(['release', 'list', '--config', config])).code).toBe(0);
  });

  it('keeps the last two uploads', async () => {
    const add = await runOkesu(['release', 'add', artifact('okesu-1.3.0', 1000), '--version', '1.3.0', '--key', key, '--json'], cp.env);
    expect(add.code, add.stderr).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({ version: '1.3.0' });
    expect((await okesuJson<ReleaseView[]>(['release', 'list'], cp.env)).map((r) => r.version)).toEqual(['1.3.0', '1.1.0']);
  });

  it('usage errors: neither or both of --key and --signed, a bad version', async () => {
    const art = join(dir, 'okesu-1.3.0');
    expect((await runOkesu(['release', 'add', art, '--version', '1.4.0'], cp.env)).code).toBe(2);
    expect((await runOkesu(['release', 'add', art, '--version', '1.4.0', '--key', key, '--signed', 'x'], cp.env)).code).toBe(2);
    const bad = await runOkesu(['release', 'add', art, '--version', 'v1.4', '--key', key], cp.env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/expected a version/);
  });

  it('cp serve refuses a bad --release-key, naming the file and line', async () => {
    writeFileSync(join(dir, 'bad-keys.txt'), `${publicKey}\ned25519:short\n`);
    const r = await runOkesu(['cp', 'serve', '--state', join(dir, 'cp2'), '--listen', '127.0.0.1:0', '--release-key', join(dir, 'bad-keys.txt')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/OKS_ERR_RELEASE_KEY.*bad-keys\.txt:2/);
  });
});
