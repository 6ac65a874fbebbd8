import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { mkdirSync, chmodSync, existsSync } from 'node:fs';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { createCertificateAuthority, issueServerCertificate, type CaMaterial, type CertAndKey } from '../pki/ca.js';
import { caFingerprint } from '../pki/ca-fingerprint.js';
import { writeFileAtomic, readFileIfExists } from '../files/atomic-write.js';
import { clientConfigSchema } from '../protocol/client-config.js';
import type { Store } from './store/store.js';
import { mintToken } from './secrets.js';
import { OkesuError } from '../errors.js';
import { DATABASE_FILE } from './store/database.js';

/** The CP's TLS identity: its CA, its server certificate and the CA pin carried in join tokens. */
export interface CpIdentity {
  ca: CaMaterial;
  server: CertAndKey;
  caPin: string;
}

/**
 * Names the server certificate must cover: loopback, this machine's hostname, and any extra `--san`. A replicated CP's
 * shared certificate leaves the hostname out (`thisHost: false`): it is the same on every replica, so it names none.
 */
export function serverNames(extra: readonly string[], opts: { thisHost?: boolean } = {}): { dnsNames: string[]; ipAddresses: string[] } {
  const all = ['localhost', ...(opts.thisHost === false ? [] : [osHostname()]), ...extra];
  const isIp = (s: string): boolean => /^[\d.]+$/.test(s) || s.includes(':');
  return {
    dnsNames: [...new Set(all.filter((n) => !isIp(n)))],
    ipAddresses: [...new Set(['127.0.0.1', '::1', ...all.filter(isIp)])],
  };
}

/**
 * Refuses a state directory that has been started before but lost part of what defines the CP: a CA without the
 * database (hosts, tokens, findings), or a database without the CA the fleet trusts. Starting anyway would mint a new
 * admin token and lock every daimon out (or issue a new CA no daimon trusts). An empty or absent directory is a first start.
 */
export function assertStateComplete(dir: string): void {
  const has = (file: string): boolean => existsSync(join(dir, file));
  const ca = has('ca.crt') && has('ca.key');
  const db = has(DATABASE_FILE);
  if ((has('ca.crt') || has('ca.key')) && !db) {
    throw new OkesuError(
      'OKS_ERR_STATE_INCOMPLETE',
      `${dir} holds the CP's CA but no ${DATABASE_FILE}: its hosts, tokens and findings are missing. Restore the database ` +
        `with "okesu cp restore --state ${dir} BACKUP_FILE" (made by okesu cp backup). To start over instead (a new CA and ` +
        `admin token; every daimon must join again), move ${dir} aside and start with an empty state directory.`,
    );
  }
  if (db && !ca) {
    throw new OkesuError(
      'OKS_ERR_STATE_INCOMPLETE',
      `${dir} holds ${DATABASE_FILE} but not the CA (ca.crt and ca.key) its daimons trust. Copy ca.crt and ca.key back from ` +
        `the original state directory or its backup; a new CA would lock every registered daimon out.`,
    );
  }
}

/** Creates a new CA for a CP: the one code path for a single CP's state directory and a replicated CP's shared store. */
export function createCpCa(now?: Date): Promise<CaMaterial> {
  return createCertificateAuthority({ commonName: `okesu CP CA ${osHostname()}`, ...(now && { now }) });
}

/**
 * Loads the CP's CA and server certificate from `dir`, creating them on first start (keys 0600; the CA key never
 * leaves `dir`). The server certificate is re-issued when the requested names change.
 */
export async function loadOrCreateIdentity(dir: string, extraNames: readonly string[]): Promise<CpIdentity> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const caCert = readFileIfExists(join(dir, 'ca.crt'));
  const caKey = readFileIfExists(join(dir, 'ca.key'));
  let ca: CaMaterial;
  if (caCert && caKey) {
    ca = { certPem: caCert, keyPem: caKey };
  } else {
    ca = await createCpCa();
    writeFileAtomic(join(dir, 'ca.key'), ca.keyPem, 0o600);
    writeFileAtomic(join(dir, 'ca.crt'), ca.certPem, 0o644);
  }
  const names = serverNames(extraNames);
  const namesKey = JSON.stringify(names);
  const serverCert = readFileIfExists(join(dir, 'server.crt'));
  const serverKey = readFileIfExists(join(dir, 'server.key'));
  let server: CertAndKey;
  if (serverCert && serverKey && readFileIfExists(join(dir, 'server.names')) === namesKey && caCert) {
    server = { certPem: serverCert, keyPem: serverKey };
  } else {
    server = await issueServerCertificate(ca, names);
    writeFileAtomic(join(dir, 'server.key'), server.keyPem, 0o600);
    writeFileAtomic(join(dir, 'server.crt'), server.certPem, 0o644);
    writeFileAtomic(join(dir, 'server.names'), namesKey, 0o644);
  }
  return { ca, server, caPin: caFingerprint(ca.certPem) };
}

/** Creates the first admin token if none exists yet; returns its text only on that first start. */
export function ensureAdminToken(store: Store, now: number): string | undefined {
  if (store.tokens.hasAdmin()) return undefined;
  const token = mintToken('operator');
  store.tokens.insert({
    id: token.parsed.id, kind: 'operator', role: 'admin', name: 'admin', hash: token.hash,
    created_at: now, expires_at: null, uses_left: null, created_by: 'cp first start',
  });
  store.audit.record(now, { name: 'cp', role: 'system' }, 'token.create', token.parsed.id, { role: 'admin', reason: 'first start' });
  return token.text;
}

/**
 * Writes `DIR/admin.yaml` (0600), the admin's client context. With a fresh admin token it writes the whole file;
 * on later starts it only updates the CP URL (and CA) if they changed, keeping the token.
 */
export function writeAdminConfig(dir: string, url: string, caPem: string, freshToken: string | undefined): void {
  const path = join(dir, 'admin.yaml');
  let token = freshToken;
  if (!token) {
    const existing = readFileIfExists(path);
    if (!existing) return; // the admin deleted it on purpose; the token secret is gone, so there is nothing to write
    const parsed = clientConfigSchema.safeParse(parseYaml(existing));
    if (!parsed.success) return;
    if (parsed.data.cp === url && parsed.data.ca === caPem) return;
    token = parsed.data.token;
  }
  writeFileAtomic(path, stringifyYaml({ cp: url, ca: caPem, token, name: 'admin' }), 0o600);
}
