import { createPublicKey, type KeyObject } from 'node:crypto';
import type { HostsRepo } from '../store/hosts.js';

/** Reads a live host's public keys (current, then the one its last renewal replaced) to verify what it wrote to the bucket. */
export interface HostKeys {
  /** The host's keys; undefined for an unknown or revoked host, or one with no key on record yet. */
  keysOf(hostname: string): KeyObject[] | undefined;
}

/** The SPKI DER (base64) of a public key, as the hosts table keeps it. */
export function publicKeyText(key: KeyObject | Buffer): string {
  const der = Buffer.isBuffer(key) ? key : (key.export({ type: 'spki', format: 'der' }) as Buffer);
  return der.toString('base64');
}

/** The public key a hosts-table text (SPKI DER, base64) holds; undefined for none or one that does not parse. */
export function publicKeyFromText(text: string | null): KeyObject | undefined {
  if (!text) return undefined;
  try {
    return createPublicKey({ key: Buffer.from(text, 'base64'), format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}

/**
 * Host keys with a small cache: parsing a key costs more than the store read, and a scan verifies many objects of the
 * same hosts. The whole cache is dropped when the hosts repository says keys changed (a registration, a renewal, a
 * backfill, a revocation), so a revoked host has no keys from that moment on.
 */
export function createHostKeys(hosts: Pick<HostsRepo, 'get' | 'keysGeneration'>, maxEntries = 10_000): HostKeys {
  const cache = new Map<string, KeyObject[] | undefined>();
  let generation = hosts.keysGeneration();
  return {
    keysOf(hostname) {
      if (hosts.keysGeneration() !== generation) {
        cache.clear();
        generation = hosts.keysGeneration();
      }
      if (cache.has(hostname)) return cache.get(hostname);
      const row = hosts.get(hostname);
      const keys = row ? [publicKeyFromText(row.public_key), publicKeyFromText(row.public_key_prev)].filter((k): k is KeyObject => k !== undefined) : [];
      const value = keys.length > 0 ? keys : undefined;
      if (cache.size >= maxEntries) cache.clear();
      cache.set(hostname, value);
      return value;
    },
  };
}
