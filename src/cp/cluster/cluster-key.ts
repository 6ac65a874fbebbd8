import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fstatSync, fsyncSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { inspect } from 'node:util';
import { OkesuError } from '../../errors.js';
import { fsyncDir } from '../../files/atomic-write.js';
import { ensurePrivateDir } from '../../files/private-dir.js';

/** Length of a cluster key: an AES-256 key. */
export const CLUSTER_KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const ENVELOPE_VERSION = 'v1';

/**
 * The secret every replica of one CP shares (`cp serve --cluster-key-file`): it seals the private keys and secrets
 * kept in the shared store. It prints as `[cluster key]` so a stray log line or JSON body never carries it.
 */
export interface ClusterKey {
  readonly bytes: Buffer;
  /** A public fingerprint of the key (HMAC of a fixed label): tells "another key" apart from "an altered value". */
  readonly id: string;
}

/** Wraps 32 key bytes as a ClusterKey. */
export function clusterKeyFrom(bytes: Buffer): ClusterKey {
  if (bytes.length !== CLUSTER_KEY_BYTES) throw new OkesuError('OKS_ERR_CLUSTER_KEY', `a cluster key is ${CLUSTER_KEY_BYTES} bytes, not ${bytes.length}`);
  const id = createHmac('sha256', bytes).update('okesu cluster key id v1').digest('base64url').slice(0, 22);
  const hidden = (): string => '[cluster key]';
  return Object.freeze({ bytes, id, toJSON: hidden, toString: hidden, [inspect.custom]: hidden });
}

/** Makes a new cluster key file at `path` (0600, base64, parent directory created 0700); never replaces an existing file. */
export function createClusterKeyFile(path: string): void {
  ensurePrivateDir(dirname(path));
  let fd: number;
  try {
    // O_EXCL: a key replicas were initialised with must never be replaced by accident; they could no longer open the store.
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new OkesuError('OKS_ERR_CLUSTER_KEY', `${path} already exists; refusing to overwrite it (replicas using that key could no longer open the store)`);
    }
    throw err;
  }
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, `${randomBytes(CLUSTER_KEY_BYTES).toString('base64')}\n`);
    fsyncSync(fd);
  } catch (err) {
    unlinkSync(path);
    throw err;
  } finally {
    closeSync(fd);
  }
  fsyncDir(dirname(path));
}

/**
 * Reads the cluster key at `path`. Refuses a file group or others may read: with it and a copy of the database anyone
 * has the CP's CA key and can mint certificates every daimon trusts.
 */
export function readClusterKey(path: string): ClusterKey {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new OkesuError('OKS_ERR_CLUSTER_KEY', `no cluster key at ${path}: make one with "okesu cp cluster-key --out ${path}" and copy the same file to every replica`);
    }
    throw err;
  }
  try {
    // The checks are made on the open descriptor, so the file read is the file checked.
    const st = fstatSync(fd);
    if (!st.isFile()) throw new OkesuError('OKS_ERR_CLUSTER_KEY', `${path} is not a regular file`);
    if ((st.mode & 0o077) !== 0) {
      throw new OkesuError(
        'OKS_ERR_CLUSTER_KEY',
        `${path} is readable by group or others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}); the cluster key with a copy of the ` +
          `database gives the CP's CA key. Run "chmod 600 ${path}"`,
      );
    }
    const text = readFileSync(fd, 'utf8').trim();
    const bytes = /^[A-Za-z0-9+/]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : Buffer.alloc(0);
    // Never quote the content: it might be the key, slightly damaged.
    if (bytes.length !== CLUSTER_KEY_BYTES || bytes.toString('base64') !== text) {
      throw new OkesuError('OKS_ERR_CLUSTER_KEY', `${path} does not hold a cluster key (${CLUSTER_KEY_BYTES} bytes, base64)`);
    }
    return clusterKeyFrom(bytes);
  } finally {
    closeSync(fd);
  }
}

/**
 * Seals `plaintext` with AES-256-GCM under the cluster key: `v1.<nonce>.<ciphertext+tag>` (base64url). `aad` names where
 * the value lives (its meta key), so a sealed value copied to another name does not open.
 */
export function seal(key: ClusterKey, plaintext: string | Uint8Array, aad: string): string {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.bytes, nonce);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return `${ENVELOPE_VERSION}.${nonce.toString('base64url')}.${body.toString('base64url')}`;
}

/** Opens a value sealed by `seal` under the same key and `aad`; throws OKS_ERR_CLUSTER_KEY when it does not authenticate. */
export function open(key: ClusterKey, sealed: string, aad: string): Buffer {
  const parts = sealed.split('.');
  const b64url = /^[A-Za-z0-9_-]+$/;
  const [version, nonceText, bodyText] = parts;
  if (parts.length !== 3 || version !== ENVELOPE_VERSION || !nonceText || !bodyText || !b64url.test(nonceText) || !b64url.test(bodyText)) {
    throw new OkesuError('OKS_ERR_CLUSTER_KEY', `the sealed value ${aad} is not a ${ENVELOPE_VERSION} envelope`);
  }
  const nonce = Buffer.from(nonceText, 'base64url');
  const body = Buffer.from(bodyText, 'base64url');
  if (nonce.length !== NONCE_BYTES || body.length < TAG_BYTES) {
    throw new OkesuError('OKS_ERR_CLUSTER_KEY', `the sealed value ${aad} is not a ${ENVELOPE_VERSION} envelope`);
  }
  const decipher = createDecipheriv('aes-256-gcm', key.bytes, nonce);
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new OkesuError(
      'OKS_ERR_CLUSTER_KEY',
      `cannot open the sealed value ${aad}: this replica's cluster key does not match the one that initialised the store, or the value was altered`,
    );
  }
}
