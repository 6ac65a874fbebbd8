import { createHmac } from 'node:crypto';
import { sshFingerprint } from './host-key-check.js';

/** The keys an OpenSSH known_hosts text lists for one host and port, as fingerprints. */
export interface KnownKeys {
  fingerprints: string[];
  /** Keys marked `@revoked`. */
  revoked: string[];
}

/** The name known_hosts files use for a host: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/**
 * Finds the keys `text` (an OpenSSH known_hosts file) lists for `host`:`port`: plain and hashed (`|1|salt|hash`)
 * names, comma lists, `*`/`?` wildcards and `!` negations; `@cert-authority` lines are ignored (no certificates
 * here), `@revoked` ones collected. Malformed lines are skipped, as ssh does.
 */
export function findKnownKeys(text: string, host: string, port: number): KnownKeys {
  const name = knownHostsName(host, port);
  const found: KnownKeys = { fingerprints: [], revoked: [] };
  for (const raw of text.split('\n')) {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) continue;
    let marker: string | undefined;
    if (fields[0].startsWith('@')) marker = fields.shift();
    const [names, , blob] = fields;
    if (names === undefined || blob === undefined || marker === '@cert-authority') continue;
    if (!namesMatch(names, name)) continue;
    const key = Buffer.from(blob, 'base64');
    if (key.length === 0) continue;
    (marker === '@revoked' ? found.revoked : found.fingerprints).push(sshFingerprint(key));
  }
  return found;
}

function namesMatch(names: string, name: string): boolean {
  if (names.startsWith('|1|')) return hashedMatch(names, name);
  let matched = false;
  for (const pattern of names.split(',')) {
    const negated = pattern.startsWith('!');
    if (!globMatch(negated ? pattern.slice(1) : pattern, name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

function hashedMatch(entry: string, name: string): boolean {
  const [, , salt, hash] = entry.split('|');
  if (salt === undefined || hash === undefined) return false;
  return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
}

function globMatch(pattern: string, name: string): boolean {
  const regex = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${regex}$`, 'i').test(name);
}
