// reflect-metadata must be evaluated before @peculiar/x509 is: its ASN.1 schema decorators need it.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto);

/** @peculiar/x509, ready to use with Node's WebCrypto; every module in `src/pki` imports it from here. */
export { x509 };

/** Node's WebCrypto SubtleCrypto, for key generation, import and export. */
export const subtle = webcrypto.subtle;

/** Key parameters of every key Okesu generates: ECDSA on P-256. */
export const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;

/** Signature parameters used with {@link EC_P256} keys. */
export const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;
