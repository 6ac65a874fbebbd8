import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { OkesuError } from '../../errors.js';
import { issueServerCertificate, type CaMaterial, type CertAndKey } from '../../pki/ca.js';
import { caFingerprint } from '../../pki/ca-fingerprint.js';
import { createCpCa, serverNames, type CpIdentity } from '../cp-state.js';
import { open, seal, type ClusterKey } from './cluster-key.js';
import { sharedTicketKeys, type SharedTicketKeys } from './shared-ticket-keys.js';

/** What shared identity needs of the store's meta table: a read and an atomic create (the first writer wins). */
export interface SharedMeta {
  get(key: string): string | undefined;
  /** Stores `value` under `key` unless the key exists; returns the value stored now (this one or the earlier one). */
  setIfAbsent(key: string, value: string): string;
}

/** A replicated CP's identity, the same on every replica, and whether this call made it (the first replica). */
export interface SharedIdentity {
  identity: CpIdentity;
  ticketKeys: SharedTicketKeys;
  created: boolean;
}

/** The meta keys shared identity writes; values holding a private key or secret are sealed with the cluster key. */
export const SHARED_META = {
  keyId: 'cluster.key_id',
  ca: 'cluster.ca',
  serverPrefix: 'cluster.server.',
  ticketSecret: 'cluster.tls_ticket_secret',
} as const;

interface PairRecord {
  cert: string;
  /** The private key PEM, sealed; its aad binds the meta key and the certificate, so neither can be swapped. */
  key: string;
}

const pairAad = (metaKey: string, certPem: string): string => `${metaKey}#${createHash('sha256').update(certPem).digest('base64url')}`;

/** Stores the value `make` returns unless the key has one already; either way returns what is stored and whether it is ours. */
async function getOrCreate(meta: SharedMeta, key: string, make: () => Promise<string>): Promise<{ value: string; created: boolean }> {
  const existing = meta.get(key);
  if (existing !== undefined) return { value: existing, created: false };
  const candidate = await make();
  // Another replica may have stored its own while this one generated: the stored value wins, ours is dropped unused.
  const value = meta.setIfAbsent(key, candidate);
  return { value, created: value === candidate };
}

function sealPair(key: ClusterKey, metaKey: string, pair: CertAndKey): string {
  const record: PairRecord = { cert: pair.certPem, key: seal(key, pair.keyPem, pairAad(metaKey, pair.certPem)) };
  return JSON.stringify(record);
}

function openPair(key: ClusterKey, metaKey: string, text: string): CertAndKey {
  let record: Partial<PairRecord>;
  try {
    record = JSON.parse(text) as Partial<PairRecord>;
  } catch {
    record = {};
  }
  if (typeof record.cert !== 'string' || typeof record.key !== 'string') {
    throw new OkesuError('OKS_ERR_CLUSTER_KEY', `the store's ${metaKey} record is damaged (not a certificate and a sealed key)`);
  }
  return { certPem: record.cert, keyPem: open(key, record.key, pairAad(metaKey, record.cert)).toString('utf8') };
}

/** Refuses a cluster key other than the one the store was initialised with, before anything is opened or generated. */
function assertSameKey(meta: SharedMeta, key: ClusterKey): void {
  const stored = meta.setIfAbsent(SHARED_META.keyId, key.id);
  if (stored !== key.id) {
    throw new OkesuError(
      'OKS_ERR_CLUSTER_KEY',
      `this replica's cluster key does not match the one that initialised the store (key id ${key.id}, the store's ${stored}); ` +
        'start every replica with a copy of the same --cluster-key-file',
    );
  }
}

/**
 * Loads a replicated CP's CA, server certificate and ticket keys from the shared store, the first replica creating
 * them (the same CA and certificate code as a single CP). Private keys leave memory only sealed with the cluster key.
 * The server certificate names `sans` (the balancer's name among them) and loopback, not this machine: a replica
 * started with other `--san` gets its own certificate from the same CA. `now`: the wall clock, where certificates start.
 * `hostsRegistered`: the store already has hosts, so a missing CA is refused instead of replaced by one no daimon trusts.
 */
export async function loadOrCreateSharedIdentity(opts: {
  meta: SharedMeta;
  clusterKey: ClusterKey;
  sans: readonly string[];
  now: number;
  log: Logger;
  hostsRegistered?: boolean;
}): Promise<SharedIdentity> {
  const { meta, clusterKey: key } = opts;
  assertSameKey(meta, key);
  if (opts.hostsRegistered && meta.get(SHARED_META.ca) === undefined) {
    throw new OkesuError(
      'OKS_ERR_STATE_INCOMPLETE',
      `the store has registered hosts but no ${SHARED_META.ca} record (the CA they trust); a new CA would lock every daimon out. ` +
        'Restore the database from a backup taken since the replicated CP first started',
    );
  }
  const caRecord = await getOrCreate(meta, SHARED_META.ca, async () => sealPair(key, SHARED_META.ca, await createCpCa(new Date(opts.now))));
  const ca: CaMaterial = openPair(key, SHARED_META.ca, caRecord.value);

  const names = serverNames(opts.sans, { thisHost: false });
  const serverKey = `${SHARED_META.serverPrefix}${createHash('sha256').update(JSON.stringify(names)).digest('hex').slice(0, 16)}`;
  const serverRecord = await getOrCreate(meta, serverKey, async () =>
    sealPair(key, serverKey, await issueServerCertificate(ca, { ...names, now: new Date(opts.now) })),
  );
  const server = openPair(key, serverKey, serverRecord.value);

  const secretRecord = await getOrCreate(meta, SHARED_META.ticketSecret, () => Promise.resolve(seal(key, randomBytes(32), SHARED_META.ticketSecret)));
  const ticketKeys = sharedTicketKeys(open(key, secretRecord.value, SHARED_META.ticketSecret));

  const identity: CpIdentity = { ca, server, caPin: caFingerprint(ca.certPem) };
  opts.log.info(
    { ca_pin: identity.caPin, names: [...names.dnsNames, ...names.ipAddresses], ca_created: caRecord.created, server_cert_created: serverRecord.created },
    caRecord.created ? 'cluster identity created in the shared store' : 'cluster identity loaded from the shared store',
  );
  return { identity, ticketKeys, created: caRecord.created };
}
