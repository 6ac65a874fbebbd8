import { parseToken } from '../../src/protocol/tokens.js';
import type { DaimonIdentity } from '../identity.js';
import type { SecretStore } from './secret-store.js';

/**
 * Holds the join token for redaction: its secret part, which every copy of the token contains (the id and the CA
 * pin around it are not secret), or the whole text when it does not parse.
 */
export function holdJoinToken(store: SecretStore, token: string): void {
  store.hold('OKESU_JOIN_TOKEN', parseToken(token, 'join')?.secret ?? token.trim());
}

/**
 * Holds the host's own secrets for redaction: the secret part of its credential `okh_…`, and each base64 line of
 * its private key — a run that prints the key file, whole or in pieces, has its lines replaced one by one.
 */
export function holdIdentitySecrets(store: SecretStore, identity: Pick<DaimonIdentity, 'credential' | 'keyPem'>): void {
  store.hold('OKESU_HOST_CREDENTIAL', parseToken(identity.credential, 'host')?.secret ?? identity.credential);
  for (const line of identity.keyPem.split('\n')) {
    const body = line.trim();
    if (body !== '' && !body.startsWith('-----')) store.hold('OKESU_HOST_KEY', body);
  }
}
