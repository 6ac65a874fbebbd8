import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OkesuError } from '../../src/errors.js';
import { parseBucketKey } from '../../src/protocol/bucket-layout.js';
import { parseBucketUrl } from '../../src/transport/bucket/bucket-url.js';
import { createObjectSigner, encodeObject, readObject, type ObjectExpectation } from '../../src/transport/bucket/signed-object.js';
import { budget, withinBound } from './budget.js';

// The bucket is written by whoever holds its credentials: every object and key the CP or a daimon reads from it is
// outside input. These properties hold for any bytes.
const cp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signer = createObjectSigner('cp', cp.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
const KEY = 'hosts/web-1/inbox/r_01JD00000000000000000000AA.job';
const NOW = 1_800_000_000_000;
const expectation: ObjectExpectation = {
  key: KEY, kind: 'job', to: 'host:web-1', now: NOW, from: (p) => p === 'cp', keysOf: (p) => (p === 'cp' ? [cp.publicKey] : undefined),
};
// Body lines as JSON text (encodeObject takes a string as a line already serialised).
const signed = (lines: unknown[]): Buffer =>
  encodeObject({ kind: 'job', key: KEY, to: 'host:web-1', issued_at: NOW - 1000, expires_at: NOW + 60_000 }, lines.map((l) => JSON.stringify(l)), signer);
const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }).map((a) => Buffer.from(a)),
  fc.string({ maxLength: 2048 }).map((s) => Buffer.from(s)),
  fc.array(fc.json({ maxDepth: 4 }), { maxLength: 4 }).map((lines) => Buffer.from(`${lines.join('\n')}\nsig es256 AAAA\n`)),
);

describe('bucket objects and keys (property)', () => {
  it('readObject never throws on any bytes, and accepts nothing it did not see signed', () => {
    fc.assert(
      fc.property(bytes, (b) => {
        const read = withinBound('readObject', () => readObject(b, expectation));
        expect(read.ok).toBe(false);
        if (!read.ok) expect(read.reason.length).toBeGreaterThan(0);
      }),
      budget(1000),
    );
  });

  it('any change to a signed object — a byte replaced, inserted or cut — is refused', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue({ maxDepth: 3 }), { minLength: 1, maxLength: 3 }), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('replace', 'insert', 'cut'), (lines, at, byte, how) => {
        const original = signed(lines);
        expect(readObject(original, expectation).ok).toBe(true);
        const sigStart = original.lastIndexOf(0x0a, original.length - 2) + 1;
        const i = at % sigStart;
        let changed: Buffer;
        if (how === 'replace') {
          changed = Buffer.from(original);
          changed[i] = (original[i] as number) === byte ? (byte + 1) % 256 : byte;
        } else if (how === 'insert') {
          changed = Buffer.concat([original.subarray(0, i), Buffer.from([byte]), original.subarray(i)]);
        } else {
          changed = Buffer.concat([original.subarray(0, i), original.subarray(i + 1)]);
        }
        expect(readObject(changed, expectation).ok).toBe(false);
      }),
      budget(300),
    );
  });

  it('parseBucketKey never throws, and what it accepts names a host a key can hold', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 400 }), fc.constantFrom('hosts/', 'out/', 'hb/', 'reg/').chain((p) => fc.string({ maxLength: 200 }).map((s) => p + s))), (key) => {
        const parsed = withinBound('parseBucketKey', () => parseBucketKey(key));
        if (parsed && 'host' in parsed) expect(parsed.host).toMatch(/^[A-Za-z0-9][A-Za-z0-9.-]*$/);
      }),
      budget(2000),
    );
  });

  it('parseBucketUrl answers any flag values with a location or a configuration error naming the flag', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.option(fc.string({ maxLength: 100 }), { nil: undefined }), (url, endpoint) => {
        try {
          const loc = parseBucketUrl(url, { endpoint });
          expect(loc.bucket).toMatch(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/);
          expect(loc.prefix.startsWith('/')).toBe(false);
        } catch (err) {
          expect(err).toBeInstanceOf(OkesuError);
          expect((err as OkesuError).code).toBe('OKS_ERR_CONFIG');
          expect((err as Error).message).toMatch(/--bucket|--s3-endpoint|--s3-region/);
        }
      }),
      budget(2000),
    );
  });
});
