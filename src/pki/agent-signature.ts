import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { agentKeyError } from '../specs/agent-key.js';
import type { AgentKey } from '../specs/agent-key.js';

export type { AgentKey } from '../specs/agent-key.js';

/**
 * Signatures of agent definitions (SPEC §11). A signature travels inside the file as its last line(s):
 *
 *     <!-- okesu-signature ed25519:<public key, base64 of 32 bytes> <signature, base64 of 64 bytes> -->
 *
 * What is signed is everything before the first of those trailing lines, byte for byte (UTF-8), after a fixed
 * context string, so a signature over an agent file cannot be replayed as a signature over anything else. Being an
 * HTML comment at the end of the markdown body, the block survives every path a definition takes (file → CLI → CP
 * → dispatch → daimon) unchanged, with no protocol field of its own.
 */

/** One signature line found at the end of a definition. */
export interface DefinitionSignature {
  key: string;
  signature: string;
}

/** A definition split into what is signed and the signatures that follow it. */
export interface SplitDefinition {
  body: string;
  signatures: DefinitionSignature[];
}

const CONTEXT = 'okesu agent definition signature v1\n';
const LINE_RE = /^<!-- okesu-signature (\S+) (\S+) -->$/;
const SIG_RE = /^[A-Za-z0-9+/]{86}==$/;
// DER prefix of an Ed25519 SubjectPublicKeyInfo; the 32 raw key bytes follow it.
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** The policy form of a public key: `ed25519:<base64 of its 32 raw bytes>`. */
export function formatAgentKey(key: KeyObject): string {
  const der = key.export({ format: 'der', type: 'spki' });
  return `ed25519:${der.subarray(SPKI_PREFIX.length).toString('base64')}`;
}

function publicKeyOf(text: string): KeyObject {
  const raw = Buffer.from(text.slice('ed25519:'.length), 'base64');
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** A new signing key pair: the private key as PKCS#8 PEM (keep it 0600) and the public key in the policy's form. */
export function generateAgentKey(): { privateKeyPem: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), publicKey: formatAgentKey(publicKey) };
}

/** Reads an Ed25519 private key from PEM; throws saying what it is instead. */
export function readAgentPrivateKey(pem: string): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`expected an ed25519 private key, got ${key.asymmetricKeyType ?? 'a symmetric key'}`);
  return key;
}

/** Splits a definition into the signed body and its trailing signature lines (none when it is unsigned). */
export function splitSignatures(text: string): SplitDefinition {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const signatures: DefinitionSignature[] = [];
  while (lines.length > 0) {
    const m = LINE_RE.exec(lines.at(-1) as string);
    if (!m) break;
    signatures.unshift({ key: m[1] as string, signature: m[2] as string });
    lines.pop();
  }
  if (signatures.length === 0) return { body: text, signatures };
  return { body: lines.length > 0 ? `${lines.join('\n')}\n` : '', signatures };
}

/** `text` signed with `privateKey`: its body, the other keys' signatures, and this key's (replacing an older one). */
export function signDefinition(text: string, privateKey: KeyObject): { text: string; key: string } {
  const split = splitSignatures(text);
  const body = split.body === '' || split.body.endsWith('\n') ? split.body : `${split.body}\n`;
  const key = formatAgentKey(createPublicKey(privateKey));
  const signature = sign(null, Buffer.from(CONTEXT + body, 'utf8'), privateKey).toString('base64');
  const kept = split.signatures.filter((s) => s.key !== key);
  const lines = [...kept, { key, signature }].map((s) => `<!-- okesu-signature ${s.key} ${s.signature} -->\n`);
  return { text: body + lines.join(''), key };
}

/** The outcome of checking a definition against trusted keys: its signed body and the key that vouches for it, or why not. */
export type VerifiedDefinition = { ok: true; body: string; key: AgentKey } | { ok: false; message: string };

const nameOf = (k: AgentKey): string => k.name ?? `${k.key.slice(0, 20)}…`;

/**
 * Accepts `text` when one of its signatures is by a trusted key and valid over its exact body. Signatures by keys
 * not trusted are ignored; one by a trusted key that does not verify refuses the definition even when another
 * does, since it means the body changed after that key signed it.
 */
export function verifyDefinition(text: string, trusted: readonly AgentKey[]): VerifiedDefinition {
  const { body, signatures } = splitSignatures(text);
  if (signatures.length === 0) return { ok: false, message: 'the definition is not signed (okesu agents sign FILE --key KEY)' };
  const message = Buffer.from(CONTEXT + body, 'utf8');
  let good: AgentKey | undefined;
  for (const s of signatures) {
    const key = trusted.find((k) => k.key === s.key);
    if (!key) continue;
    const valid = agentKeyError(s.key) === undefined && SIG_RE.test(s.signature) && verify(null, message, publicKeyOf(s.key), Buffer.from(s.signature, 'base64'));
    if (!valid) return { ok: false, message: `the signature by ${nameOf(key)} does not match the definition: it was changed after signing` };
    good ??= key;
  }
  if (good) return { ok: true, body, key: good };
  const by = signatures.map((s) => `${s.key.slice(0, 20)}…`).join(', ');
  return { ok: false, message: `the definition is signed only by keys this host does not trust (${by})` };
}
