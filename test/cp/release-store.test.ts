import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/cp/store/store.js';
import { openTestStore, storeKinds, type StoreKind, type TestStore } from '../support/store-kinds.js';
import { createReleaseStore, type ReleaseStoreOptions } from '../../src/cp/releases/create-release-store.js';
import { generateReleaseKey } from '../../src/release/release-signing.js';
import { OkesuError } from '../../src/errors.js';
import { signedArtifact } from './release-helpers.js';

const key = generateReleaseKey();
let dir: string;
let store: Store;
let t: TestStore;
let clock = 1_000;

/** A fresh state dir (the artifacts) and a fresh store of `kind` (the releases table). */
const useStore = (kind: StoreKind): void => {
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'okesu-releases-'));
    t = await openTestStore(kind);
    store = t.store;
  });
  afterEach(async () => {
    await t.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
};

function open(opts: Partial<ReleaseStoreOptions> = {}, inUse?: (v: string) => boolean) {
  return createReleaseStore(
    { stateDir: dir, trustedKeys: [key.publicKey], ...opts },
    { db: store.db, transaction: (fn) => store.transaction(fn), now: () => ++clock, log: pino({ level: 'silent' }), ...(inUse && { inUse }) },
  );
}

/** A readable that yields `bytes` in small chunks, as a socket would. */
function chunked(bytes: Buffer, size = 4096): Readable {
  return Readable.from((function* () {
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  })());
}

const versions = (s: ReturnType<typeof open>): string[] => s.list().map((r) => r.version);

describe.each(storeKinds)('release store (%s)', (kind) => {
  useStore(kind);

  it('adds, lists newest version first, and gets a release with its artifact path', async () => {
    const releases = open();
    for (const v of ['1.2.0', '1.10.0', '1.2.0-rc.1']) {
      const a = signedArtifact(key, v, 10_000);
      await releases.add(a.signed, chunked(a.bytes), 'admin');
    }
    expect(versions(releases)).toEqual(['1.10.0', '1.2.0', '1.2.0-rc.1']);
    expect(releases.get('1.10.0')?.artifactPath).toBe(join(dir, 'releases', '1.10.0', 'artifact'));
    expect(releases.get('../etc')).toBeUndefined();
  });

  it('prunes beyond the last N uploads but never a release in use', async () => {
    const protectedVersion = '1.0.0';
    const releases = open({ keep: 2 }, (v) => v === protectedVersion);
    for (const v of ['1.0.0', '1.1.0', '1.2.0', '1.3.0']) {
      const a = signedArtifact(key, v, 1000);
      await releases.add(a.signed, chunked(a.bytes), 'admin');
    }
    expect(versions(releases)).toEqual(['1.3.0', '1.2.0', '1.0.0']);
    expect(readdirSync(join(dir, 'releases')).filter((n) => n !== '.tmp').sort()).toEqual(['1.0.0', '1.2.0', '1.3.0']);
  });

  it('stops reading an artifact longer than its manifest as soon as it is', async () => {
    const releases = open();
    const a = signedArtifact(key, '1.0.0', 1000);
    let pulled = 0;
    const endless = new Readable({
      read() {
        pulled += 4096;
        this.push(Buffer.alloc(4096));
      },
    });
    await expect(releases.add(a.signed, endless, 'admin')).rejects.toMatchObject({ code: 'OKS_ERR_RELEASE_MISMATCH' });
    expect(pulled).toBeLessThan(64 * 1024);
    expect(readdirSync(join(dir, 'releases', '.tmp'))).toEqual([]);
  });

  it('keeps nothing of an upload that ends early', async () => {
    const releases = open();
    const a = signedArtifact(key, '1.0.0', 10_000);
    const broken = new Readable({
      read() {
        this.push(a.bytes.subarray(0, 100));
        this.destroy(new Error('socket hang up'));
      },
    });
    const err = await releases.add(a.signed, broken, 'admin').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OkesuError);
    expect(readdirSync(join(dir, 'releases', '.tmp'))).toEqual([]);
    expect(releases.list()).toEqual([]);
  });

  it('cleans what a crash left at start: uploads in flight, directories without a row, rows without an artifact', async () => {
    const first = open();
    for (const v of ['1.0.0', '1.1.0']) {
      const a = signedArtifact(key, v, 1000);
      await first.add(a.signed, chunked(a.bytes), 'admin');
    }
    mkdirSync(join(dir, 'releases', '.tmp'), { recursive: true });
    writeFileSync(join(dir, 'releases', '.tmp', 'upload-0123'), 'half');
    mkdirSync(join(dir, 'releases', '2.0.0'));
    writeFileSync(join(dir, 'releases', '2.0.0', 'artifact'), 'renamed, never committed');
    rmSync(join(dir, 'releases', '1.1.0', 'artifact'));
    const again = open();
    expect(versions(again)).toEqual(['1.0.0']);
    expect(existsSync(join(dir, 'releases', '.tmp'))).toBe(false);
    expect(readdirSync(join(dir, 'releases')).sort()).toEqual(['1.0.0']);
  });

  it('refuses a bad trusted key and a bad keep count at construction', () => {
    expect(() => open({ trustedKeys: ['ed25519:nope'] })).toThrow(/not a release public key/);
    expect(() => open({ keep: 0 })).toThrow(OkesuError);
  });
});
