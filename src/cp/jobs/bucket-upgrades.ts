import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import { bucketLayout } from '../../protocol/bucket-layout.js';
import { hostParty } from '../../protocol/bucket-objects.js';
import type { UpgradeOrder } from '../../protocol/rollout.js';
import type { Bucket } from '../../transport/bucket/bucket.js';
import { createObjectSigner, encodeObject } from '../../transport/bucket/signed-object.js';
import type { CpIdentity } from '../cp-state.js';
import type { StoredRelease } from '../releases/release-store.js';

/** How long an upgrade order stays valid: long enough for a host that is off for a while, bounded so a stale one is refused. */
export const UPGRADE_ORDER_TTL_MS = 7 * 86_400_000;

/** The CP's upgrades through the bucket (docs/jobs-mode.md, Upgrades). */
export interface BucketUpgrades {
  /**
   * Uploads a release for jobs-mode hosts: `releases/V/artifact` (streamed from the CP's file), then
   * `releases/V/release.json`. Once per version: skipped when both are there with the artifact's size. The objects
   * carry no CP signature: the release's own signature and the manifest's SHA-256 and size are what a host checks.
   */
  publishRelease(release: StoredRelease): Promise<void>;
  /** Writes the CP-signed order `hosts/HOST/inbox/ROLLOUT.upgrade` (overwrites an earlier one of that rollout). */
  order(hostname: string, order: UpgradeOrder): Promise<void>;
  /** Deletes a host's order of a rollout: its state in it is final, or the rollout is over for it. */
  clear(hostname: string, rolloutId: string): Promise<void>;
  /** Deletes a release's objects (the CP no longer keeps it). */
  unpublishRelease(version: string): Promise<void>;
}

/** Builds the bucket side of upgrades; orders are signed with the CA key (party `cp`), as jobs are. */
export function createBucketUpgrades(deps: {
  bucket: Bucket;
  prefix: string;
  identity: Pick<CpIdentity, 'ca'>;
  log: Logger;
  now: () => number;
  /** Lifetime of an order (default UPGRADE_ORDER_TTL_MS). */
  orderTtlMs?: number;
}): BucketUpgrades {
  const { bucket, now } = deps;
  const layout = bucketLayout(deps.prefix);
  const log = deps.log.child({ component: 'bucket-upgrades' });
  const signer = createObjectSigner('cp', deps.identity.ca.keyPem);
  // Versions known to be in the bucket, and uploads in progress (two rollouts of one version upload it once).
  const published = new Set<string>();
  const uploading = new Map<string, Promise<void>>();

  const isPresent = async (version: string, size: number): Promise<boolean> => {
    const page = await bucket.list(layout.release(version));
    const sizes = new Map(page.entries.map((e) => [e.key, e.size]));
    return sizes.get(layout.releaseArtifact(version)) === size && sizes.has(layout.releaseManifest(version));
  };

  const upload = async (release: StoredRelease): Promise<void> => {
    const { version } = release.view;
    const size = (await stat(release.artifactPath)).size;
    if (size !== release.view.size) {
      throw new Error(`release ${version}: the CP's artifact is ${size} bytes, its manifest says ${release.view.size}`);
    }
    if (await isPresent(version, size)) return;
    const started = now();
    await bucket.putStream(layout.releaseArtifact(version), createReadStream(release.artifactPath), size);
    // Written last: when the manifest is there, the artifact before it is complete.
    await bucket.put(layout.releaseManifest(version), `${JSON.stringify(release.signed)}\n`);
    log.info({ version, size, ms: now() - started }, 'release published to the bucket');
  };

  return {
    async publishRelease(release) {
      const { version } = release.view;
      if (published.has(version)) return;
      let running = uploading.get(version);
      if (!running) {
        running = upload(release).finally(() => uploading.delete(version));
        uploading.set(version, running);
      }
      await running;
      published.add(version);
    },
    async order(hostname, order) {
      const key = layout.upgrade(hostname, order.rollout_id);
      const at = now();
      const bytes = encodeObject(
        { kind: 'upgrade', key: layout.relative(key) as string, to: hostParty(hostname), issued_at: at, expires_at: at + (deps.orderTtlMs ?? UPGRADE_ORDER_TTL_MS) },
        [order], signer,
      );
      await bucket.put(key, bytes);
    },
    async clear(hostname, rolloutId) {
      await bucket.delete(layout.upgrade(hostname, rolloutId));
    },
    async unpublishRelease(version) {
      published.delete(version);
      // The manifest first: a host never finds a manifest whose artifact is gone.
      await bucket.delete(layout.releaseManifest(version));
      await bucket.delete(layout.releaseArtifact(version));
    },
  };
}
