/**
 * Just enough DER (ITU-T X.690) to build and read the few structures on Okesu's hot PKI paths: a daimon's CSR and the
 * client certificate the CP signs for it. The general-purpose X.509 toolkit costs milliseconds per certificate; these
 * byte-level helpers cost microseconds, which is what a fleet registering thousands of hosts at once needs.
 */

/** One DER element: its tag byte, where its value lies in the buffer, and the whole encoding. */
export interface DerElement {
  tag: number;
  /** The value octets (a view into the parsed buffer). */
  value: Buffer;
  /** Tag + length + value (a view into the parsed buffer): what a signature covers. */
  raw: Buffer;
}

/** DER tags used here (universal class unless noted). */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** A context-specific tag `[n]`: constructed (EXPLICIT or constructed IMPLICIT) or primitive (IMPLICIT). */
export function contextTag(n: number, constructed: boolean): number {
  return 0x80 | (constructed ? 0x20 : 0) | n;
}

function lengthOctets(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Encodes one element from its tag and value octets. */
export function tlv(tag: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), lengthOctets(value.length), value]);
}

/** A SEQUENCE of already-encoded elements. */
export function sequence(...items: Buffer[]): Buffer {
  return tlv(TAG.SEQUENCE, Buffer.concat(items));
}

/** A SET of already-encoded elements (callers pass one element, so DER's sort order never matters here). */
export function set(...items: Buffer[]): Buffer {
  return tlv(TAG.SET, Buffer.concat(items));
}

/** An OBJECT IDENTIFIER from its dotted form. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const [first = 0, second = 0, ...rest] = arcs;
  const out: number[] = [];
  for (const arc of [first * 40 + second, ...rest]) {
    const groups: number[] = [arc & 0x7f];
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128)) groups.unshift((n & 0x7f) | 0x80);
    out.push(...groups);
  }
  return tlv(TAG.OID, Buffer.from(out));
}

/** Decodes an OBJECT IDENTIFIER's value octets to its dotted form. */
export function oidToString(value: Buffer): string {
  const arcs: number[] = [];
  let n = 0;
  for (const byte of value) {
    n = n * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      if (arcs.length === 0) arcs.push(n < 80 ? Math.floor(n / 40) : 2, n < 80 ? n % 40 : n - 80);
      else arcs.push(n);
      n = 0;
    }
  }
  return arcs.join('.');
}

/** A non-negative INTEGER from big-endian magnitude bytes (a 0x00 is prepended when the top bit is set). */
export function unsignedInteger(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  return tlv(TAG.INTEGER, (trimmed[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

/** A small non-negative INTEGER. */
export function smallInteger(n: number): Buffer {
  return unsignedInteger(Buffer.from([n]));
}

/** A BIT STRING with no unused bits. */
export function bitString(bytes: Buffer): Buffer {
  return tlv(TAG.BIT_STRING, Buffer.concat([Buffer.from([0]), bytes]));
}

/** A BOOLEAN. */
export function boolean(v: boolean): Buffer {
  return tlv(TAG.BOOLEAN, Buffer.from([v ? 0xff : 0]));
}

/** An OCTET STRING. */
export function octetString(bytes: Buffer): Buffer {
  return tlv(TAG.OCTET_STRING, bytes);
}

/** A UTF8String. */
export function utf8String(text: string): Buffer {
  return tlv(TAG.UTF8_STRING, Buffer.from(text, 'utf8'));
}

/** An X.509 Time: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5), whole seconds, UTC. */
export function x509Time(date: Date): Buffer {
  const iso = date.toISOString(); // 2026-11-24T20:36:40.123Z
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  const year = date.getUTCFullYear();
  return year < 2050 ? tlv(TAG.UTC_TIME, Buffer.from(digits.slice(2), 'ascii')) : tlv(TAG.GENERALIZED_TIME, Buffer.from(digits, 'ascii'));
}

/** Thrown by the reader on malformed input; callers turn it into their own error. */
export class DerError extends Error {}

/** Reads the element at `offset` of `buf`, checking every length against the bounds. */
export function readElement(buf: Buffer, offset = 0): DerElement & { end: number } {
  if (offset + 2 > buf.length) throw new DerError('truncated element');
  const tag = buf[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not used here');
  let length = buf[offset + 1] as number;
  let pos = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw new DerError('unsupported length encoding');
    if (pos + count > buf.length) throw new DerError('truncated length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (buf[pos + i] as number);
    pos += count;
  }
  const end = pos + length;
  if (end > buf.length) throw new DerError('element runs past the end of its container');
  return { tag, value: buf.subarray(pos, end), raw: buf.subarray(offset, end), end };
}

/** The child elements of a constructed element's value, in order; the value must be exactly covered. */
export function children(value: Buffer): DerElement[] {
  const out: DerElement[] = [];
  for (let offset = 0; offset < value.length; ) {
    const el = readElement(value, offset);
    out.push({ tag: el.tag, value: el.value, raw: el.raw });
    offset = el.end;
  }
  return out;
}

/** Parses `buf` as exactly one element of the expected tag. */
export function expectElement(buf: Buffer, tag: number, what: string): DerElement {
  const el = readElement(buf, 0);
  if (el.end !== buf.length) throw new DerError(`${what}: trailing bytes`);
  if (el.tag !== tag) throw new DerError(`${what}: unexpected tag 0x${el.tag.toString(16)}`);
  return el;
}
