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
import { createBucketScanner, type BucketScanner } from './bucket-scanner.js';

/** Default time between two bucket scans (`cp serve --bucket-scan`). */
export const DEFAULT_BUCKET_SCAN_MS = 5000;

/** The CP's side of jobs mode, built: the route the dispatcher uses, and the scanner. */
export interface JobsMode {
  route: JobsRoute;
  scanner: BucketScanner;
  start(): void;
  /** Stops scanning, finishes pending deletions, releases the bucket. */
  stop(): Promise<void>;
}

/** Builds jobs mode over an open bucket: everything is signed with the CA key (party `cp`). */
export function createJobsMode(deps: {
  bucket: Bucket;
  prefix: string;
  store: Store;
  identity: CpIdentity;
  liveness: Liveness;
  ingest: EventIngest;
  hostCertTtlMs: number;
  scanMs?: number;
  onRegistered: (hostname: string) => void;
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
    register: (input) => registerWithToken(deps.store, deps.identity, input, now(), deps.hostCertTtlMs),
  });
  const scanner = createBucketScanner({
    bucket, layout, hostKeys: createHostKeys(deps.store.hosts), ingest: deps.ingest, liveness: deps.liveness, registration,
    quarantine: createQuarantine({ bucket, layout, now, log }), cleanup, scanMs: deps.scanMs ?? DEFAULT_BUCKET_SCAN_MS, now, log,
  });
  return {
    route,
    scanner,
    start: () => scanner.start(),
    async stop() {
      await scanner.stop();
      await cleanup.stop();
      bucket.close();
    },
  };
}
