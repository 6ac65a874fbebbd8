import type { Logger } from 'pino';
import { ensureIdentity } from '../../../daimon/registration.js';
import { bucketUrl, parseBucketUrl } from '../../transport/bucket/bucket-url.js';
import { openS3Bucket } from '../../transport/bucket/open-s3-bucket.js';

/** Where and how `okesu install` registers the host: the same code the daimon runs on its first start. */
export interface RegisterHost {
  stateDir: string;
  cp?: string;
  /** Held in memory only: never written to a file, a unit or a command line. */
  token?: string;
  bucket?: { url: string; endpoint?: string; region?: string };
  hostname?: string;
  labels: Record<string, string>;
  version: string;
}

/** Registers the host into `stateDir` (with the CP, or through the jobs bucket), or keeps the identity already there. */
export async function registerHost(r: RegisterHost, log: Logger): Promise<{ hostname: string; registered: boolean }> {
  const location = r.bucket && parseBucketUrl(r.bucket.url, { ...(r.bucket.endpoint !== undefined && { endpoint: r.bucket.endpoint }), ...(r.bucket.region !== undefined && { region: r.bucket.region }) });
  const bucket = location && (await openS3Bucket(location, { log }));
  try {
    const { identity, registered } = await ensureIdentity(
      {
        stateDir: r.stateDir, cp: r.cp, token: r.token, hostname: r.hostname, labels: r.labels, version: r.version,
        ...(bucket && location && { bucket: { bucket, prefix: location.prefix, url: bucketUrl(location) } }),
      },
      log,
    );
    return { hostname: identity.hostname, registered };
  } finally {
    bucket?.close();
  }
}
