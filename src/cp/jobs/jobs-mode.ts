import type { Logger } from 'pino';
import type { Bucket } from '../../transport/bucket/bucket.js';
import { bucketLayout } from '../../protocol/bucket-layout.js';
import { createObjectSigner } from '../../transport/bucket/signed-object.js';
import type { EventIngest } from '../../transport/types.js';
import type { CpIdentity } from '../cp-state.js';
import type { Liveness } from '../liveness.js';
import type { Store } from '../store/store.js';
import { registerWithToken } from '../registration.js';
import { createHostKeys } from './host-keys.js';
import { createInboxCleanup } from './inbox-cleanup.js';
import { createJobsRoute, type JobsRoute } from './jobs-route.js';
import { createQuarantine } from './quarantine.js';
import { createBucketRegistration } from './bucket-registration.js';
import { createBucketRenewal } from './bucket-renewal.js';
import type { CertRenewal } from '../tunnel/cert-renewal.js';
import { createBucketScanner, type BucketScanner } from './bucket-scanner.js';
import { createBucketUpgrades, type BucketUpgrades } from './bucket-upgrades.js';
import type { UpgradeReport } from '../../protocol/rollout.js';

/** Default time between two bucket scans (`cp serve --bucket-scan`). */
export const DEFAULT_BUCKET_SCAN_MS = 5000;

/** The CP's side of jobs mode, built: the route the dispatcher uses, and the scanner. */
export interface JobsMode {
  route: JobsRoute;
  scanner: BucketScanner;
  /** Upgrades of jobs-mode hosts: releases published to the bucket, orders in their inboxes. */
  upgrades: BucketUpgrades;
  start(): void;
  /**
   * A host was removed (`okesu hosts rm`): deletes its inbox (jobs, claims, cancels, upgrade orders) and its heartbeat. What it writes
   * to `out/` from now on is refused by the scanner (no key known) and quarantined.
   */
  forgetHost(hostname: string): Promise<void>;
  /** Stops scanning, finishes pending deletions, releases the bucket if the CP opened it. */
  stop(): Promise<void>;
}

/** Builds jobs mode over an open bucket: everything is signed with the CA key (party `cp`). */
export function createJobsMode(deps: {
  bucket: Bucket;
  /** True when the CP opened the bucket (then it closes it at stop); false for one it was given. */
  ownsBucket: boolean;
  prefix: string;
  store: Store;
  identity: CpIdentity;
  liveness: Liveness;
  ingest: EventIngest;
  hostCertTtlMs: number;
  /** The release public keys registering hosts are told (issue 15). */
  releaseKeys?: readonly string[];
  /** The certificate renewal the tunnel uses; the bucket's renewal requests go through it too. */
  renewal: Pick<CertRenewal, 'issue'>;
  scanMs?: number;
  /** Keys per LIST page of the scanner (default 1000; tests make it small to exercise paging cheaply). */
  listPageSize?: number;
  onRegistered: (hostname: string) => void;
  /** A host's upgrade report came through the bucket (the rollouts take it; they ignore repeats). */
  onUpgradeStatus?: (hostname: string, report: UpgradeReport) => void;
  /** A host's bucket heartbeats name a new version (after an upgrade, or the first after a CP start). */
  onVersion?: (hostname: string, version: string) => void;
  now: () => number;
  log: Logger;
}): JobsMode {
  const log = deps.log.child({ component: 'jobs' });
  const { bucket, now } = deps;
  const layout = bucketLayout(deps.prefix);
  const signer = createObjectSigner('cp', deps.identity.ca.keyPem);
  const cleanup = createInboxCleanup({ bucket, layout, log });
  const route = createJobsRoute({ bucket, layout, signer, standing: (h) => deps.liveness.standing(h), cleanup, now, log });
  const registration = createBucketRegistration({
    bucket, layout, signer, caPem: deps.identity.ca.certPem, now, log, onRegistered: deps.onRegistered,
    register: (input) => registerWithToken(deps.store, deps.identity, input, now(), deps.hostCertTtlMs, deps.releaseKeys),
  });
  const renewal = createBucketRenewal({ bucket, layout, signer, hosts: deps.store.hosts, renewal: deps.renewal, now, log });
  const scanner = createBucketScanner({
    bucket, layout, hostKeys: createHostKeys(deps.store.hosts), ingest: deps.ingest, liveness: deps.liveness, registration, renewal,
    quarantine: createQuarantine({ bucket, layout, now, log }), cleanup, scanMs: deps.scanMs ?? DEFAULT_BUCKET_SCAN_MS, now, log,
    ...(deps.listPageSize !== undefined && { pageSize: deps.listPageSize }),
    ...(deps.onUpgradeStatus && { onUpgradeStatus: deps.onUpgradeStatus }),
    ...(deps.onVersion && { onVersion: deps.onVersion }),
  });
  const upgrades = createBucketUpgrades({ bucket, prefix: deps.prefix, identity: deps.identity, log, now });
  return {
    route,
    scanner,
    upgrades,
    start: () => scanner.start(),
    async forgetHost(hostname) {
      let continuation: string | undefined;
      do {
        const page = await bucket.list(layout.inbox(hostname), continuation === undefined ? {} : { continuation });
        cleanup.scheduleKeys(page.entries.map((e) => e.key));
        continuation = page.next;
      } while (continuation !== undefined);
      cleanup.scheduleKeys([layout.heartbeat(hostname)]);
      await cleanup.flush();
    },
    async stop() {
      await scanner.stop();
      await cleanup.stop();
      if (deps.ownsBucket) bucket.close();
    },
  };
}
