import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { clusterKeyFrom, createClusterKeyFile, readClusterKey, type ClusterKey } from '../cluster/cluster-key.js';

/** The file in a single CP's state directory holding the key that seals notification secrets (0600, like ca.key). */
export const NOTIFY_KEY_FILE = 'notify.key';

/**
 * The key that seals channel secrets in the store. A cluster's replicas share the store and so need the same key: the
 * cluster key (`--cluster-key-file`), which already seals the shared CA. A single CP keeps its own in the state
 * directory, made on first use with the cluster key's format and checks (0600, refused when group or others may read).
 */
export function loadNotifyKey(opts: { stateDir: string; store?: string; clusterKeyFile?: string }): ClusterKey {
  if (opts.store !== undefined && opts.clusterKeyFile !== undefined) return readClusterKey(opts.clusterKeyFile);
  const path = join(opts.stateDir, NOTIFY_KEY_FILE);
  if (!existsSync(path)) createClusterKeyFile(path);
  return readClusterKey(path);
}

/** A key for tests and embedded use. */
export function notifyKeyFrom(bytes: Buffer): ClusterKey {
  return clusterKeyFrom(bytes);
}
