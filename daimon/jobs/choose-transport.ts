import { arch, platform } from 'node:os';
import type { Logger } from 'pino';
import { OkesuError } from '../../src/errors.js';
import type { Bucket } from '../../src/transport/bucket/bucket.js';
import type { DaimonTransport } from '../../src/transport/types.js';
import type { DaimonIdentity } from '../identity.js';
import { createTunnelClient } from '../tunnel-client.js';
import type { DaimonStatus, TunnelClientOptions } from '../tunnel-client.js';
import { createAutoTransport } from './auto-transport.js';
import { createJobsTransport } from './jobs-transport.js';
import type { TransportMode } from './transport-modes.js';

export { TRANSPORT_MODES } from './transport-modes.js';
export type { TransportMode } from './transport-modes.js';

/**
 * The transport mode: the one asked for, else `auto` with both a CP URL and a bucket, `jobs` with only a bucket,
 * `tunnel` otherwise. The tunnel needs the CP's https:// URL — a daimon registered through the bucket has only the
 * bucket's until it is given `--cp` — and jobs a bucket; a mode without what it needs is a configuration error.
 */
export function chooseTransportMode(requested: TransportMode | undefined, cp: string, hasBucket: boolean): TransportMode {
  const tunnelable = cp.startsWith('https://');
  const mode = requested ?? (hasBucket ? (tunnelable ? 'auto' : 'jobs') : 'tunnel');
  if (mode !== 'jobs' && !tunnelable) {
    throw new OkesuError('OKS_ERR_CONFIG', `--transport ${mode} needs the CP's https:// URL (--cp); this host knows only ${JSON.stringify(cp)}${hasBucket ? ' (use --transport jobs)' : ''}`);
  }
  if (mode !== 'tunnel' && !hasBucket) throw new OkesuError('OKS_ERR_CONFIG', `--transport ${mode} needs --bucket s3://BUCKET[/PREFIX]`);
  return mode;
}

/** What the daimon's transport is built from. */
export interface DaimonTransportOptions {
  mode: TransportMode;
  identity: DaimonIdentity;
  /** The open bucket (modes `jobs` and `auto`) and its key prefix. */
  bucket?: { bucket: Bucket; prefix: string };
  stateDir: string;
  version: string;
  labels: Record<string, string>;
  status: () => DaimonStatus;
  pollMs?: number;
  heartbeatEvery?: number;
  tunnel?: Partial<TunnelClientOptions>;
  /** A renewal (over the tunnel or through the bucket) stored a new key and certificate. */
  onRenewed?: (identity: DaimonIdentity) => void;
}

/** Builds the tunnel, the jobs transport, or both behind the auto transport. */
export function createDaimonTransport(opts: DaimonTransportOptions, deps: { log: Logger; now?: () => number }): DaimonTransport {
  const jobs = (mode: 'jobs' | 'auto') => {
    if (!opts.bucket) throw new OkesuError('OKS_ERR_CONFIG', `--transport ${mode} needs --bucket s3://BUCKET[/PREFIX]`);
    return createJobsTransport(
      {
        identity: opts.identity, bucket: opts.bucket.bucket, prefix: opts.bucket.prefix, stateDir: opts.stateDir, version: opts.version,
        labels: opts.labels, status: opts.status, mode, ...(opts.pollMs !== undefined && { pollMs: opts.pollMs }),
        ...(opts.heartbeatEvery !== undefined && { heartbeatEvery: opts.heartbeatEvery }),
        // Only the bucket reaches the CP: renew through it. In auto mode the tunnel renews.
        ...(mode === 'jobs' && { renew: { identity: opts.identity, ...(opts.onRenewed && { onRenewed: opts.onRenewed }) } }),
      },
      { log: deps.log.child({ component: 'jobs' }), ...(deps.now && { now: deps.now }) },
    );
  };
  const tunnel = (bucket?: { poll_ms: number; interval_ms: number }, alsoOnRenewed?: (identity: DaimonIdentity) => void) => createTunnelClient(
    {
      identity: opts.identity, version: opts.version, os: platform(), arch: arch(), labels: opts.labels, status: opts.status,
      renew: {
        stateDir: opts.stateDir, identity: opts.identity,
        onRenewed: (identity) => {
          alsoOnRenewed?.(identity);
          opts.onRenewed?.(identity);
        },
      },
      ...opts.tunnel, ...(bucket && { bucket }),
    },
    { log: deps.log.child({ component: 'tunnel' }), ...(deps.now && { now: deps.now }) },
  );
  switch (opts.mode) {
    case 'tunnel':
      return tunnel();
    case 'jobs':
      return jobs('jobs');
    case 'auto': {
      const bucketSide = jobs('auto');
      // A certificate renewed over the tunnel comes with a new key: the bucket side signs with it too.
      const viaTunnel = tunnel({ poll_ms: bucketSide.pollMs, interval_ms: bucketSide.intervalMs }, (identity) => bucketSide.setKey(identity.keyPem));
      return createAutoTransport(viaTunnel, bucketSide);
    }
  }
}
