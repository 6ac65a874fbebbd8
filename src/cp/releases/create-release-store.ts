import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { OkesuError } from '../../errors.js';
import { ensurePrivateDir } from '../../files/private-dir.js';
import { versionSchema, type ReleaseView, type SignedRelease } from '../../protocol/release.js';
import { releaseKeyId, verifyRelease } from '../../release/release-signing.js';
import type { SqlDb } from '../store/sql/sql-db.js';
import { DEFAULT_KEEP_RELEASES, type ReleaseStore, type StoredRelease } from './release-store.js';
import { createReleasesTable, releaseView, rowSigned, type ReleaseRow } from './releases-table.js';
import { fsyncDir } from '../../files/atomic-write.js';
import { receiveArtifact, releaseLayout, sweepReleaseDir } from './release-files.js';

/** How to build the CP's release store. */
export interface ReleaseStoreOptions {
  stateDir: string;
  /** The trusted release public keys (`ed25519:…`); checked here, so a bad one stops the CP at start. */
  trustedKeys: readonly string[];
  /** How many releases to keep (default DEFAULT_KEEP_RELEASES): the most recently uploaded ones. */
  keep?: number;
}

/** A release store with its upkeep. */
export interface ManagedReleaseStore extends ReleaseStore {
  /** Deletes releases beyond the newest `keep` uploads that `inUse` does not protect; returns the deleted versions. */
  prune(): string[];
}

/**
 * Builds the CP's release store over the `releases` table and `STATE/releases/`. At construction it removes what a
 * crash left half done (uploads in flight, directories without a row) and rows whose artifact is gone, then prunes.
 * `inUse(version)` protects a release a running rollout targets from pruning.
 */
export function createReleaseStore(
  options: ReleaseStoreOptions,
  deps: { db: SqlDb; transaction: <T>(fn: () => T) => T; inUse?: (version: string) => boolean; now: () => number; log: Logger },
): ManagedReleaseStore {
  const log = deps.log.child({ component: 'releases' });
  const table = createReleasesTable(deps.db);
  const layout = releaseLayout(options.stateDir);
  const keep = options.keep ?? DEFAULT_KEEP_RELEASES;
  if (!Number.isInteger(keep) || keep < 1) throw new OkesuError('OKS_ERR_CONFIG', `keep releases must be a positive integer, got ${keep}`);
  const trusted = [...new Set(options.trustedKeys.map((k) => k.trim()))];
  for (const key of trusted) releaseKeyId(key);
  const inUse = deps.inUse ?? ((): boolean => false);

  const stored = (row: ReleaseRow): StoredRelease => ({ view: releaseView(row), signed: rowSigned(row), artifactPath: layout.artifact(row.version) });

  const publish = (row: ReleaseRow, tempPath: string): void => {
    deps.transaction(() => {
      const dir = layout.dir(row.version);
      rmSync(dir, { recursive: true, force: true });
      ensurePrivateDir(dir);
      renameSync(tempPath, layout.artifact(row.version));
      table.insert(row);
    });
    fsyncDir(layout.root);
  };

  const store: ManagedReleaseStore = {
    async add(signed: SignedRelease, artifact: Readable, uploadedBy: string): Promise<ReleaseView> {
      const manifest = verifyRelease(signed, trusted);
      const before = table.get(manifest.version);
      if (before && (before.sha256 !== manifest.sha256 || before.size !== manifest.size)) {
        throw new OkesuError('OKS_ERR_RELEASE_INVALID', `version ${manifest.version} is already stored with other content (sha256 ${before.sha256.slice(0, 12)}…); a version is never replaced`);
      }
      const got = await receiveArtifact(artifact, layout.tmp, manifest.size);
      try {
        if (got.size !== manifest.size) throw new OkesuError('OKS_ERR_RELEASE_MISMATCH', `received ${got.size} bytes, the manifest says ${manifest.size}`);
        if (got.sha256 !== manifest.sha256) throw new OkesuError('OKS_ERR_RELEASE_MISMATCH', `the artifact's SHA-256 is ${got.sha256}, the manifest says ${manifest.sha256}`);
        // Checked again: another upload of the same version may have finished while this one streamed.
        const existing = table.get(manifest.version);
        if (existing) {
          if (existing.sha256 !== manifest.sha256) throw new OkesuError('OKS_ERR_RELEASE_INVALID', `version ${manifest.version} is already stored with other content`);
          rmSync(got.path, { force: true });
          return releaseView(existing);
        }
        const row: ReleaseRow = {
          version: manifest.version, platform: manifest.platform, sha256: manifest.sha256, size: manifest.size, key_id: signed.key_id,
          signed: JSON.stringify({ manifest: signed.manifest, signature: signed.signature, key_id: signed.key_id }),
          created_at: manifest.created_at, uploaded_at: deps.now(), uploaded_by: uploadedBy,
        };
        publish(row, got.path);
        log.info({ version: row.version, sha256: row.sha256, size: row.size, key_id: row.key_id, by: uploadedBy }, 'release stored');
        // The release is stored whatever happens to the upkeep: a failed prune is retried after the next upload.
        try {
          store.prune();
        } catch (err) {
          log.error({ err }, 'pruning old releases failed');
        }
        return releaseView(row);
      } finally {
        rmSync(got.path, { force: true });
      }
    },
    list: () => table.all().map(releaseView),
    get(version) {
      if (!versionSchema.safeParse(version).success) return undefined;
      const row = table.get(version);
      return row && stored(row);
    },
    trustedKeys: () => trusted,
    prune() {
      const byUpload = table.all().sort((a, b) => b.uploaded_at - a.uploaded_at);
      const deleted: string[] = [];
      for (const row of byUpload.slice(keep)) {
        if (inUse(row.version)) continue;
        // The row first: a crash before the files go leaves a directory the next start removes.
        deps.transaction(() => table.delete(row.version));
        rmSync(layout.dir(row.version), { recursive: true, force: true });
        deleted.push(row.version);
      }
      if (deleted.length > 0) log.info({ deleted, keep }, 'old releases deleted');
      return deleted;
    },
  };

  // Start-up: a half-done upload leaves nothing behind, and a row without its artifact is not offered to hosts.
  const rows = table.all();
  sweepReleaseDir(layout, new Set(rows.map((r) => r.version)));
  for (const row of rows) {
    const path = layout.artifact(row.version);
    const size = existsSync(path) ? statSync(path).size : -1;
    if (size === row.size) continue;
    log.warn({ version: row.version, expected_size: row.size, found_size: size }, 'release artifact missing or altered on disk; release removed');
    deps.transaction(() => table.delete(row.version));
    rmSync(layout.dir(row.version), { recursive: true, force: true });
  }
  store.prune();
  return store;
}
