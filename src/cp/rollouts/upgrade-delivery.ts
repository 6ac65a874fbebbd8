import type { Logger } from 'pino';
import type { UpgradeReport } from '../../protocol/rollout.js';
import type { BucketUpgrades } from '../jobs/bucket-upgrades.js';
import type { ReleaseStore } from '../releases/release-store.js';
import type { UpgradeFrame } from './rollout-engine.js';

/** How the rollout engine reaches a host: is it reachable now, and hand it an order (false: it could not be handed over). */
export interface UpgradeDelivery {
  isOnline(hostname: string): boolean;
  sendUpgrade(hostname: string, frame: UpgradeFrame): boolean;
  /** A host's state in a rollout became final (its report, the no-report sweep, offline): its bucket order is deleted. */
  settled(hostname: string, rolloutId: string): void;
}

/**
 * Upgrade orders by the tunnel while a host's tunnel is up, else through the jobs bucket (docs/jobs-mode.md,
 * Upgrades): the release is published to the bucket once per version, then the CP-signed order is written to the
 * host's inbox. A bucket write that fails is reported as the host's failure, so the rollout does not wait for it.
 */
export function createUpgradeDelivery(deps: {
  tunnel: { canReach(hostname: string): boolean; sendUpgrade(hostname: string, frame: UpgradeFrame): boolean };
  /** Absent without a jobs bucket. */
  bucket?: {
    canReach(hostname: string): boolean;
    /** The host polls the bucket (jobs or auto), reachable now or not: it may hold an order there. */
    uses(hostname: string): boolean;
    upgrades: BucketUpgrades;
  };
  releases: Pick<ReleaseStore, 'get'>;
  /** Where a failed bucket delivery is reported (the rollout engine's onUpgradeStatus). */
  report(hostname: string, report: UpgradeReport): void;
  log: Logger;
}): UpgradeDelivery {
  const throughBucket = (bucket: NonNullable<typeof deps.bucket>, hostname: string, frame: UpgradeFrame): void => {
    const { type: _type, ...order } = frame;
    const version = (JSON.parse(order.release.manifest) as { version: string }).version;
    void (async () => {
      const release = deps.releases.get(version);
      if (!release) throw new Error(`release ${version} is no longer stored`);
      await bucket.upgrades.publishRelease(release);
      await bucket.upgrades.order(hostname, order);
      deps.log.info({ rollout: order.rollout_id, host: hostname }, 'upgrade ordered through the bucket');
    })().catch((err: unknown) => {
      deps.log.warn({ rollout: order.rollout_id, host: hostname, err: (err as Error).message }, 'upgrade order through the bucket failed');
      deps.report(hostname, { rollout_id: order.rollout_id, version, state: 'failed', reason: `the order could not be written to the bucket: ${(err as Error).message}` });
    });
  };
  return {
    isOnline: (hostname) => deps.tunnel.canReach(hostname) || (deps.bucket?.canReach(hostname) ?? false),
    sendUpgrade(hostname, frame) {
      if (deps.tunnel.canReach(hostname) && deps.tunnel.sendUpgrade(hostname, frame)) return true;
      if (!deps.bucket?.canReach(hostname)) return false;
      throughBucket(deps.bucket, hostname, frame);
      return true;
    },
    settled(hostname, rolloutId) {
      // Only hosts that poll the bucket may have an order there (a tunnel-only host costs no request).
      if (!deps.bucket?.uses(hostname)) return;
      deps.bucket.upgrades.clear(hostname, rolloutId).catch((err: unknown) =>
        deps.log.warn({ host: hostname, rollout: rolloutId, err: (err as Error).message }, 'could not delete an upgrade order from the bucket'));
    },
  };
}
