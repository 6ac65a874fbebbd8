import type { PeerCertificate } from 'node:tls';
import { hostnameSchema } from '../protocol/api.js';

/** URI prefix of the SAN that names a host in every client certificate the CP issues. */
export const HOST_URI_PREFIX = 'spiffe://okesu/host/';

/** The SPIFFE-style URI that binds a client certificate to `hostname`. */
export function hostUri(hostname: string): string {
  return `${HOST_URI_PREFIX}${hostname}`;
}

/**
 * Canonical form of a certificate serial so that ours and Node's compare equal: lower-case hex, no `:`
 * separators, no leading zeros (Node prints `serialNumber` in upper case and drops leading zero bytes);
 * `0` stays `0`. Returns undefined when the input is not hex.
 */
export function normaliseSerial(serial: string): string | undefined {
  const hex = serial.replace(/:/g, '').toLowerCase();
  if (!/^[0-9a-f]+$/.test(hex)) return undefined;
  return hex.replace(/^0+(?=.)/, '');
}

/** A `subjectaltname` string as Node prints it (`DNS:a, URI:b`, values with special characters JSON-quoted) as [type, value] pairs. */
export function parseSubjectAltName(san: string): Array<[string, string]> | undefined {
  const entry = /([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/y;
  const out: Array<[string, string]> = [];
  while (entry.lastIndex < san.length) {
    const start = entry.lastIndex;
    const m = entry.exec(san);
    if (!m || entry.lastIndex === start) return undefined;
    const raw = m[2] ?? '';
    let value = raw;
    if (raw.startsWith('"')) {
      try {
        value = JSON.parse(raw) as string;
      } catch {
        return undefined;
      }
    }
    out.push([m[1] ?? '', value]);
  }
  return out;
}

/**
 * The hostname a peer certificate was issued to, from its `URI:spiffe://okesu/host/<name>` SAN; undefined when
 * there is no certificate, no such URI, more than one, or the name is not a hostname. It reads the certificate
 * only: the caller must first check that the TLS socket is `authorized` (chained to our CA).
 */
export function hostnameFromPeerCertificate(cert: PeerCertificate | null | undefined): string | undefined {
  const san = cert?.subjectaltname;
  if (typeof san !== 'string' || san.length === 0) return undefined;
  const names = parseSubjectAltName(san);
  if (!names) return undefined;
  const hosts = names.filter(([type, value]) => type === 'URI' && value.startsWith(HOST_URI_PREFIX));
  // Two host URIs would make the identity ambiguous; our CA never issues that, so refuse it.
  if (hosts.length !== 1) return undefined;
  const name = (hosts[0] as [string, string])[1].slice(HOST_URI_PREFIX.length);
  return hostnameSchema.safeParse(name).success ? name : undefined;
}

/** The peer certificate's serial in the form {@link normaliseSerial} gives (the same as `signHostCsr` returns), or undefined. */
export function serialFromPeerCertificate(cert: PeerCertificate | null | undefined): string | undefined {
  const serial = cert?.serialNumber;
  return typeof serial === 'string' && serial.length > 0 ? normaliseSerial(serial) : undefined;
}
