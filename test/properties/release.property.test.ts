import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OkesuError } from '../../src/errors.js';
import { compareVersions, versionSchema, type SignedRelease } from '../../src/protocol/release.js';
import { generateReleaseKey, signRelease, verifyRelease } from '../../src/release/release-signing.js';
import { budget } from './budget.js';

// ---- versions ----

const core = fc.oneof(fc.constantFrom(0, 1, 2, 10), fc.integer({ min: 0, max: 999_999_999 }));
const numericId = fc.oneof(fc.constantFrom('0', '1', '2', '11'), fc.bigInt({ min: 1n, max: 10n ** 25n }).map(String));
const alphaId = fc.stringMatching(/^[0-9]*[A-Za-z-][0-9A-Za-z-]{0,6}$/);
const version = fc
  .record({ nums: fc.tuple(core, core, core), pre: fc.array(fc.oneof(numericId, alphaId, fc.constantFrom('alpha', 'beta', 'rc')), { maxLength: 3 }) })
  .map(({ nums, pre }) => `${nums.join('.')}${pre.length > 0 ? `-${pre.join('.')}` : ''}`)
  .filter((v) => v.length <= 64);

/** semver 2.0 precedence written independently of compareVersions (BigInt numbers), as the oracle. */
function reference(a: string, b: string): number {
  const split = (v: string): { nums: bigint[]; pre: string[] } => {
    const dash = v.indexOf('-');
    const head = dash < 0 ? v : v.slice(0, dash);
    return { nums: head.split('.').map(BigInt), pre: dash < 0 ? [] : v.slice(dash + 1).split('.') };
  };
  const x = split(a);
  const y = split(b);
  for (let i = 0; i < 3; i++) if (x.nums[i] !== y.nums[i]) return (x.nums[i] as bigint) < (y.nums[i] as bigint) ? -1 : 1;
  if (x.pre.length === 0 && y.pre.length === 0) return 0;
  if (x.pre.length === 0) return 1;
  if (y.pre.length === 0) return -1;
  for (let i = 0; ; i++) {
    const p = x.pre[i];
    const q = y.pre[i];
    if (p === undefined && q === undefined) return 0;
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    const pn = /^\d+$/.test(p);
    const qn = /^\d+$/.test(q);
    if (pn && qn && BigInt(p) !== BigInt(q)) return BigInt(p) < BigInt(q) ? -1 : 1;
    if (pn !== qn) return pn ? -1 : 1;
    if (!pn && p !== q) return p < q ? -1 : 1;
  }
}

describe('compareVersions (property)', () => {
  it('generated versions are versions', () => {
    fc.assert(
      fc.property(version, (v) => {
        expect(versionSchema.safeParse(v).success).toBe(true);
      }),
      budget(300),
    );
  });

  it('agrees with semver precedence, is antisymmetric, and is 0 only for the same text', () => {
    fc.assert(
      fc.property(version, version, (a, b) => {
        const c = Math.sign(compareVersions(a, b));
        expect(c).toBe(reference(a, b));
        expect(Math.sign(compareVersions(b, a))).toBe(-c);
        expect(c === 0).toBe(a === b);
      }),
      budget(2000),
    );
  });

  it('orders numeric identifiers exactly, however long (no float rounding)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 2n ** 53n, max: 10n ** 30n }), fc.bigInt({ min: 1n, max: 1000n }), (n, delta) => {
        expect(compareVersions(`1.0.0-rc.${n}`, `1.0.0-rc.${n + delta}`)).toBeLessThan(0);
      }),
      budget(300),
    );
  });

  it('refuses numeric identifiers with a leading zero (two texts of one version would break the order)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^0[0-9]{1,5}$/), (id) => {
        expect(versionSchema.safeParse(`1.0.0-${id}`).success).toBe(false);
        expect(versionSchema.safeParse(`1.0.0-rc.${id}`).success).toBe(false);
      }),
      budget(200),
    );
  });

  it('is transitive: sorting by it leaves every pair in order', () => {
    fc.assert(
      fc.property(fc.array(version, { minLength: 3, maxLength: 12 }), (list) => {
        const sorted = [...list].sort(compareVersions);
        for (let i = 0; i < sorted.length; i++) {
          for (let j = i + 1; j < sorted.length; j++) expect(compareVersions(sorted[i] as string, sorted[j] as string)).toBeLessThanOrEqual(0);
        }
      }),
      budget(300),
    );
  });

  it('throws on exactly the texts versionSchema refuses', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 30 }), fc.stringMatching(/^[0-9.a-z-]{1,20}$/), version), (text) => {
        const valid = versionSchema.safeParse(text).success;
        if (valid) expect(compareVersions(text, text)).toBe(0);
        else expect(() => compareVersions(text, '1.0.0')).toThrow(/not a version/);
      }),
      budget(1000),
    );
  });
});

// ---- signatures ----

const key = generateReleaseKey();
const other = generateReleaseKey();
const fields = fc.record({
  version,
  platform: fc.constantFrom('linux-x64', 'linux-arm64', 'darwin-arm64'),
  sha256: fc.stringMatching(/^[0-9a-f]{64}$/),
  size: fc.integer({ min: 1, max: 1024 * 1024 * 1024 }),
  created_at: fc.nat(),
});

/** Calls verifyRelease and says how it ended; anything thrown that is not an OkesuError fails the property. */
function outcome(value: unknown, trusted: readonly string[]): string {
  try {
    verifyRelease(value, trusted);
    return 'ok';
  } catch (err) {
    if (!(err instanceof OkesuError)) throw new Error(`verifyRelease threw a ${String(err)}, not an OkesuError`);
    return err.code;
  }
}

describe('release signatures (property)', () => {
  it('round-trips every valid manifest', () => {
    fc.assert(
      fc.property(fields, (f) => {
        const signed = signRelease(key.privateKeyPem, f);
        expect(verifyRelease(signed, [other.publicKey, key.publicKey])).toEqual({ schema: 'okesu-release/1', ...f });
      }),
      budget(200),
    );
  });

  it('refuses any one-character change to the signed manifest', () => {
    fc.assert(
      fc.property(fields, fc.nat(), fc.string({ minLength: 1, maxLength: 1 }), (f, at, ch) => {
        const signed = signRelease(key.privateKeyPem, f);
        const i = at % signed.manifest.length;
        fc.pre(signed.manifest[i] !== ch);
        const manifest = `${signed.manifest.slice(0, i)}${ch}${signed.manifest.slice(i + 1)}`;
        expect(['OKS_ERR_RELEASE_UNTRUSTED', 'OKS_ERR_RELEASE_INVALID']).toContain(outcome({ ...signed, manifest }, [key.publicKey]));
      }),
      budget(300),
    );
  });

  it('refuses a release signed by a key that is not trusted', () => {
    fc.assert(
      fc.property(fields, (f) => {
        expect(outcome(signRelease(other.privateKeyPem, f), [key.publicKey])).toBe('OKS_ERR_RELEASE_UNTRUSTED');
      }),
      budget(100),
    );
  });

  it('never throws anything but an OkesuError on any value', () => {
    const signed = signRelease(key.privateKeyPem, { version: '1.0.0', platform: 'linux-x64', sha256: 'a'.repeat(64), size: 1, created_at: 1 });
    const envelopes = fc.oneof(
      fc.anything(),
      fc.record({ manifest: fc.oneof(fc.string(), fc.constant(signed.manifest)), signature: fc.oneof(fc.stringMatching(/^[A-Za-z0-9+/]{86}==$/), fc.string()), key_id: fc.oneof(fc.constant(key.keyId), fc.string()) }),
      fc.record({ field: fc.constantFrom<keyof SignedRelease>('manifest', 'signature', 'key_id'), value: fc.anything() }).map(({ field, value }) => ({ ...signed, [field]: value })),
    );
    fc.assert(
      fc.property(envelopes, (value) => {
        const result = outcome(value, [key.publicKey]);
        if (result === 'ok') expect(value).toEqual(signed);
      }),
      budget(1000),
    );
  });
});
