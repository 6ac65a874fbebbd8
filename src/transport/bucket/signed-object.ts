import { createPrivateKey, sign, verify, type KeyObject } from 'node:crypto';
import {
  CLOCK_SKEW_MS, MAX_OBJECT_BYTES, SIGNATURE_DOMAIN, objectHeaderSchema, type ObjectHeader, type ObjectKind, type Party,
} from '../../protocol/bucket-objects.js';
import { describeIssues } from '../../protocol/event.js';

/**
 * Signed bucket objects (docs/jobs-mode.md): `<header JSON>\n<body line>\n…sig <alg> <base64>\n`. The signature covers
 * SIGNATURE_DOMAIN plus every byte before the `sig` line. The CP signs with its CA key, a host with its own key; the
 * header binds the object to its key, its writer, its reader and its lifetime, so a copy, a forgery or a stale replay
 * is refused before any body line is parsed.
 */

/** Who writes objects: a party name and a private key (EC P-256 or Ed25519). */
export interface ObjectSigner {
  readonly party: Party;
  sign(data: Buffer): { alg: SignatureAlg; signature: Buffer };
}

/** Signature algorithms of the `sig` line. */
export type SignatureAlg = 'es256' | 'ed25519';

/** A signer over a PKCS#8 PEM private key. */
export function createObjectSigner(party: Party, privateKeyPem: string): ObjectSigner {
  const key = createPrivateKey(privateKeyPem);
  const alg = algOf(key);
  return {
    party,
    sign: (data) => ({ alg, signature: sign(alg === 'ed25519' ? null : 'sha256', Buffer.concat([DOMAIN, data]), key) }),
  };
}

const DOMAIN = Buffer.from(SIGNATURE_DOMAIN, 'utf8');

function algOf(key: KeyObject): SignatureAlg {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'es256';
  throw new Error(`unsupported key type ${key.asymmetricKeyType ?? 'unknown'} (expected EC P-256 or Ed25519)`);
}

/** Encodes and signs an object. `lines` are JSON values (one per body line) or already-serialised JSON lines. */
export function encodeObject(header: Omit<ObjectHeader, 'v' | 'from'>, lines: readonly unknown[], signer: ObjectSigner): Buffer {
  const head = JSON.stringify({ v: 1, kind: header.kind, key: header.key, from: signer.party, to: header.to, issued_at: header.issued_at, expires_at: header.expires_at });
  const body = lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l)));
  for (const line of body) if (line.includes('\n')) throw new Error('a body line may not contain a newline');
  const signed = Buffer.from(`${head}\n${body.map((l) => `${l}\n`).join('')}`, 'utf8');
  const { alg, signature } = signer.sign(signed);
  return Buffer.concat([signed, Buffer.from(`sig ${alg} ${signature.toString('base64')}\n`, 'utf8')]);
}

/** What a reader expects of an object; anything else is a refusal with a reason. */
export interface ObjectExpectation {
  /** The key the object was read from, relative to the prefix: the header must name exactly it. */
  key: string;
  kind: ObjectKind;
  /** The reader: the header's `to` must be it. */
  to: Party;
  /** The writers' public keys by party (a renewed host has two for a while); undefined when the writer is unknown. */
  keysOf: (from: Party) => readonly KeyObject[] | undefined;
  /** Which writers this kind may come from (e.g. a job only from `cp`, events only from the host in the key). */
  from: (party: Party) => boolean;
  now: number;
}

/** A verified object: its header and its body lines, each parsed as JSON (not yet validated against the kind's schema). */
export interface VerifiedObject {
  header: ObjectHeader;
  lines: unknown[];
}

/** The outcome of reading an object: verified, or refused with the reason to log and quarantine. */
export type ReadResult = { ok: true; object: VerifiedObject } | { ok: false; reason: string };

/** Reads the header line alone, unverified (the scanner uses it only to pick the key to verify with). */
export function peekHeader(bytes: Buffer): ObjectHeader | undefined {
  const nl = bytes.indexOf(0x0a);
  if (nl <= 0 || nl > 4096) return undefined;
  try {
    const parsed = objectHeaderSchema.safeParse(JSON.parse(bytes.subarray(0, nl).toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Verifies and parses an object: size, the header's shape, key, kind, writer and reader, its lifetime, then the
 * signature; only then are body lines parsed. Never throws on hostile bytes.
 */
export function readObject(bytes: Buffer, expect: ObjectExpectation): ReadResult {
  if (bytes.length > MAX_OBJECT_BYTES) return refuse(`larger than ${MAX_OBJECT_BYTES} bytes`);
  if (bytes.length === 0 || bytes[bytes.length - 1] !== 0x0a) return refuse('not a signed object (does not end with a newline)');
  const sigStart = bytes.lastIndexOf(0x0a, bytes.length - 2) + 1;
  const firstNl = bytes.indexOf(0x0a);
  if (sigStart === 0 || firstNl >= sigStart) return refuse('not a signed object (no header and signature lines)');
  let header: ObjectHeader;
  try {
    const parsed = objectHeaderSchema.safeParse(JSON.parse(bytes.subarray(0, firstNl).toString('utf8')));
    if (!parsed.success) return refuse(`bad header: ${describeIssues(parsed.error)}`);
    header = parsed.data;
  } catch {
    return refuse('bad header: not JSON');
  }
  if (header.key !== expect.key) return refuse(`the header names key ${JSON.stringify(header.key.slice(0, 200))}, the object is at ${JSON.stringify(expect.key)} (moved or replayed)`);
  if (header.kind !== expect.kind) return refuse(`kind ${header.kind} where ${expect.kind} belongs`);
  if (header.to !== expect.to) return refuse(`addressed to ${header.to}, not ${expect.to}`);
  if (!expect.from(header.from)) return refuse(`${header.from} may not write ${header.kind} objects here`);
  if (header.issued_at > expect.now + CLOCK_SKEW_MS) return refuse(`issued in the future (${new Date(header.issued_at).toISOString()})`);
  if (header.expires_at <= expect.now) return refuse(`expired at ${new Date(header.expires_at).toISOString()}`);
  const keys = expect.keysOf(header.from);
  if (!keys || keys.length === 0) return refuse(`no key known for ${header.from}`);
  const sigLine = bytes.subarray(sigStart, bytes.length - 1).toString('utf8');
  const m = /^sig (es256|ed25519) ([A-Za-z0-9+/]{1,400}={0,2})$/.exec(sigLine);
  if (!m) return refuse('bad signature line');
  const signature = Buffer.from(m[2] as string, 'base64');
  const signed = Buffer.concat([DOMAIN, bytes.subarray(0, sigStart)]);
  const verified = keys.some((key) => {
    try {
      return algOf(key) === m[1] && verify(m[1] === 'ed25519' ? null : 'sha256', signed, key, signature);
    } catch {
      return false;
    }
  });
  if (!verified) return refuse(`signature does not verify with the key of ${header.from}`);
  const lines: unknown[] = [];
  const text = bytes.subarray(firstNl + 1, sigStart).toString('utf8');
  if (text.length > 0) {
    for (const [i, line] of text.slice(0, -1).split('\n').entries()) {
      try {
        lines.push(JSON.parse(line));
      } catch {
        return refuse(`body line ${i + 1} is not JSON`);
      }
    }
  }
  return { ok: true, object: { header, lines } };
}

function refuse(reason: string): ReadResult {
  return { ok: false, reason };
}
