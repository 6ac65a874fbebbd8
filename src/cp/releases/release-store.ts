import type { Readable } from 'node:stream';
import type { ReleaseView, SignedRelease } from '../../protocol/release.js';

/** How many releases the CP keeps by default (`cp serve --keep-releases`); older ones are deleted when a new one is added. */
export const DEFAULT_KEEP_RELEASES = 5;

/** A stored release: its listing, the signed manifest hosts verify, and the artifact file. */
export interface StoredRelease {
  view: ReleaseView;
  signed: SignedRelease;
  /** Absolute path of the artifact in the CP's state directory (`releases/VERSION/artifact`). */
  artifactPath: string;
}

/**
 * The CP's releases (issue 15): signed artifacts uploaded by `okesu release add`, verified against the release
 * public keys the CP was started with, kept on disk (the last N), served to hosts for upgrades.
 */
export interface ReleaseStore {
  /**
   * Verifies `signed` against the trusted keys, streams `artifact` to a temporary file while hashing it, checks size
   * and SHA-256 against the manifest, then publishes it atomically. Throws OKS_ERR_RELEASE_UNTRUSTED/INVALID/MISMATCH
   * (nothing is kept), or OKS_ERR_RELEASE_INVALID when that version exists with other content (same content: no-op).
   */
  add(signed: SignedRelease, artifact: Readable, uploadedBy: string): Promise<ReleaseView>;
  /** Newest first. */
  list(): ReleaseView[];
  get(version: string): StoredRelease | undefined;
  /** The release public keys (`ed25519:…`) the CP trusts and tells registering hosts. */
  trustedKeys(): readonly string[];
}
