import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DerError, TAG, children, expectElement, oid, oidToString, readElement, sequence, tlv, unsignedInteger, x509Time } from '../../src/pki/der.js';

describe('DER helpers', () => {
  it('round-trips object identifiers, including multi-byte arcs', () => {
    for (const dotted of ['2.5.29.17', '1.2.840.10045.4.3.2', '1.3.6.1.5.5.7.3.2', '1.3.101.112']) {
      expect(oidToString(expectElement(oid(dotted), TAG.OID, 'oid').value)).toBe(dotted);
    }
    expect(oid('1.2.840.10045.4.3.2').toString('hex')).toBe('06082a8648ce3d040302');
  });

  it('encodes long lengths and keeps integers positive', () => {
    const big = tlv(TAG.OCTET_STRING, Buffer.alloc(300, 1));
    expect(big.subarray(0, 4).toString('hex')).toBe('0482012c');
    expect(readElement(big).value.length).toBe(300);
    expect(unsignedInteger(Buffer.from([0x80, 1])).toString('hex')).toBe('0203008001');
    expect(unsignedInteger(Buffer.from([0, 0, 5])).toString('hex')).toBe('020105');
  });

  it('writes UTCTime before 2050 and GeneralizedTime from 2050 (RFC 5280)', () => {
    expect(x509Time(new Date('2026-11-24T20:36:40.999Z')).toString('latin1')).toBe('\x17\x0d261124203640Z');
    expect(x509Time(new Date('2050-01-01T00:00:00Z')).toString('latin1')).toBe('\x18\x0f20500101000000Z');
  });

  it('refuses lengths that run past the buffer, trailing bytes and indefinite lengths', () => {
    const seq = sequence(tlv(TAG.INTEGER, Buffer.from([1])));
    expect(() => readElement(seq.subarray(0, seq.length - 1))).toThrow(DerError);
    expect(() => expectElement(Buffer.concat([seq, Buffer.from([0])]), TAG.SEQUENCE, 'x')).toThrow(/trailing bytes/);
    expect(() => readElement(Buffer.from([0x30, 0x80, 0, 0]))).toThrow(DerError);
    expect(() => readElement(Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]))).toThrow(/past the end/);
    expect(children(seq.subarray(2)).map((c) => c.tag)).toEqual([TAG.INTEGER]);
  });

  it('produces structures an independent parser accepts (a certificate signed by host-cert is read by Node)', async () => {
    const { createCertificateAuthority } = await import('../../src/pki/ca.js');
    const { signHostCsr } = await import('../../src/pki/host-cert.js');
    const { generateHostKeyAndCsr } = await import('../../src/pki/host-key.js');
    const ca = await createCertificateAuthority({ commonName: 'der test CA' });
    const { csrPem } = await generateHostKeyAndCsr('db-07');
    const { certPem } = await signHostCsr(ca, csrPem, 'db-07', { now: new Date('2049-12-31T23:59:59Z'), validityDays: 2 });
    const cert = new X509Certificate(certPem);
    expect(cert.validTo).toBe('Jan  2 23:59:59 2050 GMT');
    expect(cert.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
  });
});
