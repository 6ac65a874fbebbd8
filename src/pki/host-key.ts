import { generateKeyPair, sign } from 'node:crypto';
import { promisify } from 'node:util';
import { bitString, contextTag, oid, sequence, set, smallInteger, tlv, utf8String } from './der.js';
import { encodePem } from './pem.js';

const generateEcKeyPair = promisify(generateKeyPair);
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const COMMON_NAME = '2.5.4.3';

/** A daimon's private key (PKCS#8 PEM, usable as Node TLS `key`) and the CSR it sends to the CP. */
export interface HostKeyAndCsr {
  keyPem: string;
  csrPem: string;
}

/** Generates the daimon's ECDSA P-256 key pair and a CSR for `hostname`; the CP ignores the CSR's subject and binds its own. */
export async function generateHostKeyAndCsr(hostname: string): Promise<HostKeyAndCsr> {
  const { publicKey, privateKey } = await generateEcKeyPair('ec', { namedCurve: 'P-256' });
  // CertificationRequestInfo ::= SEQUENCE { version 0, subject CN=hostname, subjectPKInfo, attributes [0] (none) }
  const info = sequence(
    smallInteger(0),
    sequence(set(sequence(oid(COMMON_NAME), utf8String(hostname)))),
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(contextTag(0, true), Buffer.alloc(0)),
  );
  const csr = sequence(info, sequence(oid(ECDSA_WITH_SHA256)), bitString(sign('sha256', info, privateKey)));
  return {
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    csrPem: encodePem(csr, 'CERTIFICATE REQUEST'),
  };
}
