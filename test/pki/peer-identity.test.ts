import type { PeerCertificate } from 'node:tls';
import { describe, expect, it } from 'vitest';
import {
  hostnameFromPeerCertificate,
  normaliseSerial,
  parseSubjectAltName,
  serialFromPeerCertificate,
} from '../../src/pki/peer-identity.js';

// Only the fields these functions read; the rest of PeerCertificate does not matter to them.
function peer(fields: { subjectaltname?: string; serialNumber?: string }): PeerCertificate {
  return fields as PeerCertificate;
}

describe('hostnameFromPeerCertificate', () => {
  it.each([
    ['DNS:web-01, URI:spiffe://okesu/host/web-01', 'web-01'],
    ['URI:spiffe://okesu/host/db.internal.example', 'db.internal.example'],
    ['DNS:a, IP Address:10.0.0.1, URI:spiffe://okesu/host/b', 'b'],
    ['URI:spiffe://other/host/web-01, URI:spiffe://okesu/host/web-02', 'web-02'],
  ])('reads %j as %j', (san, host) => {
    expect(hostnameFromPeerCertificate(peer({ subjectaltname: san }))).toBe(host);
  });

  it.each([
    ['only a DNS name', 'DNS:web-01'],
    ['a URI of another trust domain', 'URI:spiffe://other/host/web-01'],
    ['an empty host name', 'URI:spiffe://okesu/host/'],
    ['a path below the host', 'URI:spiffe://okesu/host/web-01/extra'],
    ['two host URIs', 'URI:spiffe://okesu/host/a, URI:spiffe://okesu/host/b'],
    ['a quoted URI with a comma', 'URI:"spiffe://okesu/host/a,b"'],
    ['a host URI inside a DNS value', 'DNS:URI:spiffe://okesu/host/x'],
    ['an empty SAN', ''],
  ])('has no host identity for %s', (_name, san) => {
    expect(hostnameFromPeerCertificate(peer({ subjectaltname: san }))).toBeUndefined();
  });

  it('has no host identity without a certificate', () => {
    expect(hostnameFromPeerCertificate(null)).toBeUndefined();
    expect(hostnameFromPeerCertificate(undefined)).toBeUndefined();
    // getPeerCertificate() returns {} when the peer sent no certificate
    expect(hostnameFromPeerCertificate(peer({}))).toBeUndefined();
  });
});

describe('parseSubjectAltName', () => {
  it('splits entries and unquotes JSON-quoted values', () => {
    expect(parseSubjectAltName('DNS:a, URI:"spiffe://x/a, b", IP Address:127.0.0.1')).toEqual([
      ['DNS', 'a'],
      ['URI', 'spiffe://x/a, b'],
      ['IP Address', '127.0.0.1'],
    ]);
  });

  it('rejects a malformed quoted value', () => {
    expect(parseSubjectAltName('URI:"unterminated')).toBeUndefined();
  });
});

describe('serial normalisation', () => {
  it.each([
    ['4A0B', '4a0b'],
    ['004A0B', '4a0b'],
    ['00:4A:0B', '4a0b'],
    ['4a0b', '4a0b'],
    ['0000', '0'],
  ])('normaliseSerial(%j) is %j', (input, out) => {
    expect(normaliseSerial(input)).toBe(out);
  });

  it('refuses non-hex serials', () => {
    expect(normaliseSerial('xyz')).toBeUndefined();
    expect(normaliseSerial('')).toBeUndefined();
  });

  it('serialFromPeerCertificate normalises Node’s upper-case rendering', () => {
    expect(serialFromPeerCertificate(peer({ serialNumber: '0ABCDEF0' }))).toBe('abcdef0');
    expect(serialFromPeerCertificate(peer({}))).toBeUndefined();
    expect(serialFromPeerCertificate(null)).toBeUndefined();
  });
});
