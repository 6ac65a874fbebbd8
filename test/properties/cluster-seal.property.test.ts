import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clusterKeyFrom, open, seal } from '../../src/cp/cluster/cluster-key.js';
import { OkesuError } from '../../src/errors.js';
import { budget } from './budget.js';

const key = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => clusterKeyFrom(Buffer.from(b)));
const plaintext = fc.oneof(fc.string({ maxLength: 500 }), fc.uint8Array({ maxLength: 2000 }));
const aad = fc.string({ maxLength: 80 });

/** Asserts that `fn` throws the cluster key error and nothing else. */
function refused(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OkesuError);
    expect((err as OkesuError).code).toBe('OKS_ERR_CLUSTER_KEY');
    return;
  }
  throw new Error('opened');
}

describe('cluster key seal and open (property)', () => {
  it('round-trips any plaintext under any key and aad', () => {
    fc.assert(
      fc.property(key, plaintext, aad, (k, text, name) => {
        const expected = typeof text === 'string' ? Buffer.from(text, 'utf8') : Buffer.from(text);
        expect(open(k, seal(k, text, name), name).equals(expected)).toBe(true);
      }),
      budget(300),
    );
  });

  it('detects any one flipped bit in the nonce, ciphertext or tag', () => {
    fc.assert(
      fc.property(key, plaintext, aad, fc.nat(), fc.integer({ min: 0, max: 7 }), fc.boolean(), (k, text, name, at, bit, inNonce) => {
        const parts = seal(k, text, name).split('.');
        const index = inNonce ? 1 : 2;
        const bytes = Buffer.from(parts[index] as string, 'base64url');
        const i = at % bytes.length;
        bytes[i] = (bytes[i] as number) ^ (1 << bit);
        parts[index] = bytes.toString('base64url');
        refused(() => open(k, parts.join('.'), name));
      }),
      budget(300),
    );
  });

  it('does not open under another aad or another key', () => {
    fc.assert(
      fc.property(key, key, plaintext, aad, aad, (k, other, text, name, otherName) => {
        fc.pre(!k.bytes.equals(other.bytes) && name !== otherName);
        const sealed = seal(k, text, name);
        refused(() => open(k, sealed, otherName));
        refused(() => open(other, sealed, name));
      }),
      budget(200),
    );
  });

  it('refuses any other text with the cluster key error, never another exception', () => {
    const k = clusterKeyFrom(Buffer.alloc(32, 1));
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.stringMatching(/^v1\.[A-Za-z0-9_-]{0,40}\.[A-Za-z0-9_-]{0,80}$/)), (text) => refused(() => open(k, text, 'n'))),
      budget(500),
    );
  });
});
