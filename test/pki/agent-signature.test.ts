import fc from 'fast-check';
import { createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateAgentKey, readAgentPrivateKey, signDefinition, splitSignatures, verifyDefinition } from '../../src/pki/agent-signature.js';
import { agentKeyError } from '../../src/specs/agent-key.js';

const alice = generateAgentKey();
const bob = generateAgentKey();
const aliceKey = createPrivateKey(alice.privateKeyPem);
const bobKey = createPrivateKey(bob.privateKeyPem);
const AGENT = '---\nname: probe\nprovider: custom\ncommand: [/bin/true]\n---\nlook around\n';

describe('agent definition signatures', () => {
  it('prints public keys in the policy form and reads them back', () => {
    expect(alice.publicKey).toMatch(/^ed25519:[A-Za-z0-9+/]{43}=$/);
    expect(agentKeyError(alice.publicKey)).toBeUndefined();
    expect(readAgentPrivateKey(alice.privateKeyPem).asymmetricKeyType).toBe('ed25519');
  });

  it.each([
    ['no prefix', 'AAAA'],
    ['another algorithm', 'rsa:AAAA'],
    ['too short', 'ed25519:AAAA'],
    ['not canonical base64', `${alice.publicKey.slice(0, -2)}B=`],
  ])('rejects a key with %s', (_what, key) => {
    expect(agentKeyError(key)).toBeDefined();
  });

  it('appends one signature line and verifies the body it follows', () => {
    const { text, key } = signDefinition(AGENT, aliceKey);
    expect(key).toBe(alice.publicKey);
    expect(text.startsWith(AGENT)).toBe(true);
    expect(text.slice(AGENT.length)).toMatch(/^<!-- okesu-signature ed25519:\S+ \S+ -->\n$/);
    expect(verifyDefinition(text, [{ key: alice.publicKey, name: 'alice' }])).toEqual({ ok: true, body: AGENT, key: { key: alice.publicKey, name: 'alice' } });
  });

  it('re-signing replaces that key’s signature and keeps the others', () => {
    const twice = signDefinition(signDefinition(signDefinition(AGENT, aliceKey).text, bobKey).text, aliceKey).text;
    expect(splitSignatures(twice).signatures.map((s) => s.key)).toEqual([bob.publicKey, alice.publicKey]);
    expect(verifyDefinition(twice, [{ key: bob.publicKey }]).ok).toBe(true);
  });

  it.each([
    ['an unsigned definition', AGENT, /is not signed/],
    ['one signed by a key not trusted', signDefinition(AGENT, bobKey).text, /only by keys this host does not trust/],
    ['one changed after signing', signDefinition(AGENT, aliceKey).text.replace('look', 'LOOK'), /changed after signing/],
    ['one with a signature line appended by hand', `${AGENT}<!-- okesu-signature ${alice.publicKey} garbage -->\n`, /changed after signing/],
  ])('refuses %s', (_what, text, message) => {
    const r = verifyDefinition(text, [{ key: alice.publicKey }]);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.message).toMatch(message);
  });

  it('refuses any single changed byte of a signed definition (property)', () => {
    const signed = signDefinition(AGENT, aliceKey).text;
    const bodyEnd = splitSignatures(signed).body.length;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: bodyEnd - 1 }), fc.integer({ min: 1, max: 127 }), (at, delta) => {
        const ch = String.fromCharCode(((signed.charCodeAt(at) + delta) % 128) || 1);
        const tampered = signed.slice(0, at) + ch + signed.slice(at + 1);
        expect(verifyDefinition(tampered, [{ key: alice.publicKey }]).ok).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});
