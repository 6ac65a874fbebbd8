import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeObject, createObjectSigner, readObject, peekHeader, type ObjectExpectation } from '../../../src/transport/bucket/signed-object.js';
import { seal, unseal } from '../../../src/transport/bucket/seal.js';
import { registrationProof, registrationProofMatches } from '../../../src/transport/bucket/registration-proof.js';
import { MAX_OBJECT_BYTES } from '../../../src/protocol/bucket-objects.js';
import { createHash } from 'node:crypto';

const cp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const pem = (k: typeof cp.privateKey): string => k.export({ type: 'pkcs8', format: 'pem' }) as string;
const NOW = 1_800_000_000_000;
const KEY = 'hosts/web-1/inbox/r_01JD00000000000000000000AA.job';

const job = (signer = createObjectSigner('cp', pem(cp.privateKey)), over: Partial<{ key: string; to: string; issued_at: number; expires_at: number }> = {}): Buffer =>
  encodeObject({ kind: 'job', key: KEY, to: 'host:web-1', issued_at: NOW, expires_at: NOW + 60_000, ...over }, [{ run_id: 'r_01JD00000000000000000000AA', agent: 'edr', prompt: 'look' }], signer);
const expect_ = (over: Partial<ObjectExpectation> = {}): ObjectExpectation => ({
  key: KEY, kind: 'job', to: 'host:web-1', keysOf: (p) => (p === 'cp' ? [cp.publicKey] : undefined), from: (p) => p === 'cp', now: NOW + 1000, ...over,
});

describe('signed bucket objects', () => {
  it('round-trips a signed object and its body lines', () => {
    const r = readObject(job(), expect_());
    expect(r).toMatchObject({ ok: true, object: { header: { kind: 'job', from: 'cp', to: 'host:web-1' }, lines: [{ agent: 'edr', prompt: 'look' }] } });
    expect(peekHeader(job())?.kind).toBe('job');
  });

  it('verifies Ed25519 writers too', () => {
    const bytes = job(createObjectSigner('cp', pem(ed.privateKey)));
    expect(readObject(bytes, expect_({ keysOf: () => [ed.publicKey] })).ok).toBe(true);
  });

  it('refuses every byte changed in the signed part', () => {
    const bytes = job();
    const sigStart = bytes.lastIndexOf(0x0a, bytes.length - 2) + 1;
    for (let i = 0; i < sigStart; i += 7) {
      const tampered = Buffer.from(bytes);
      tampered[i] = tampered[i] === 0x41 ? 0x42 : 0x41;
      expect(readObject(tampered, expect_()).ok, `byte ${i}`).toBe(false);
    }
  });

  it('says why it refuses: wrong key, moved, wrong reader, expired, future, unknown writer', () => {
    const reason = (bytes: Buffer, e: Partial<ObjectExpectation> = {}): string => {
      const r = readObject(bytes, expect_(e));
      return r.ok ? 'accepted' : r.reason;
    };
    expect(reason(job(createObjectSigner('cp', pem(other.privateKey))))).toMatch(/signature does not verify/);
    expect(reason(job(), { key: 'hosts/web-2/inbox/r_01JD00000000000000000000AA.job' })).toMatch(/moved or replayed/);
    expect(reason(job(), { to: 'host:web-2' })).toMatch(/addressed to host:web-1/);
    expect(reason(job(), { now: NOW + 120_000 })).toMatch(/expired/);
    expect(reason(job(undefined, { issued_at: NOW + 3_600_000, expires_at: NOW + 7_200_000 }))).toMatch(/future/);
    expect(reason(job(), { from: () => false })).toMatch(/may not write/);
    expect(reason(job(), { keysOf: () => undefined })).toMatch(/no key known/);
  });

  it('refuses garbage and oversized objects without throwing', () => {
    for (const bytes of [Buffer.alloc(0), Buffer.from('hello'), Buffer.from('{}\n'), Buffer.from('{"v":1}\nsig es256 AAAA\n'), Buffer.from('\n\n\n'), Buffer.from([0xff, 0xfe, 0x0a, 0x0a])]) {
      expect(readObject(bytes, expect_()).ok).toBe(false);
    }
    expect(readObject(Buffer.alloc(MAX_OBJECT_BYTES + 1, 0x0a), expect_())).toEqual({ ok: false, reason: expect.stringMatching(/larger than/) });
  });
});

describe('sealed credentials and registration proofs', () => {
  it('only the recipient key opens a sealed secret, and a changed ciphertext does not open', () => {
    const sealed = seal(other.publicKey, 'okh_secret', 'okesu-reg-v1');
    expect(unseal(other.privateKey, sealed, 'okesu-reg-v1')).toBe('okh_secret');
    expect(() => unseal(cp.privateKey, sealed, 'okesu-reg-v1')).toThrow();
    expect(() => unseal(other.privateKey, sealed, 'other-use')).toThrow();
    const ct = Buffer.from(sealed.ct, 'base64');
    ct[0] = (ct[0] as number) ^ 1;
    expect(() => unseal(other.privateKey, { ...sealed, ct: ct.toString('base64') }, 'okesu-reg-v1')).toThrow();
  });

  it('a registration proof matches only the token it was made with and the request it covers', () => {
    const body = { token_id: '0123456789abcdef', nonce: 'a'.repeat(32), hostname: 'web-1', csr: 'CSR', os: 'linux', arch: 'x64', version: '1', labels: {} };
    const proof = registrationProof('s3cret', body);
    const hash = createHash('sha256').update('s3cret').digest('hex');
    expect(registrationProofMatches(hash, { ...body, proof })).toBe(true);
    expect(registrationProofMatches(createHash('sha256').update('other').digest('hex'), { ...body, proof })).toBe(false);
    expect(registrationProofMatches(hash, { ...body, hostname: 'web-2', proof })).toBe(false);
  });
});
