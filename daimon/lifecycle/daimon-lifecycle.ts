import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import type { DaimonIdentity } from '../identity.js';
import type { TunnelLifecycle } from '../tunnel-client.js';
import { createHealthMarker } from './health-mark.js';
import { lifecyclePaths } from './state-layout.js';
import { createUpgrader, type FetchArtifact, type UpgradeOrder, type UpgradeReport } from './upgrader.js';

/** What a daimon's lifecycle hooks are built from (issue 15). */
export interface DaimonLifecycleOptions {
  stateDir: string;
  version: string;
  hostname: string;
  /** Running under `okesu supervise`. */
  supervised: boolean;
  /** The okesu executable this daimon runs from (the rollback target of a first upgrade). */
  runningFile?: string;
  /** The host policy's `release_keys`: when set, the only keys trusted (the host owner's word beats the CP's). */
  policyReleaseKeys?: readonly string[];
  /** The identity now (a renewal replaces certificate and key); its `releaseKeys` came from the CP at registration. */
  identity: () => DaimonIdentity;
  /** Where the artifact of an order read from the jobs bucket comes from (the bucket); orders on the tunnel download from the CP. */
  bucketFetch?: FetchArtifact;
}

/** How often a daimon on trial looks for the supervisor's verdict in result.json. */
const VERDICT_POLL_MS = 500;

/** The release keys an upgrade must be signed by: the host policy's when it names some, else the CP's. */
export function trustedReleaseKeys(policyKeys: readonly string[] | undefined, identity: Pick<DaimonIdentity, 'releaseKeys'>): readonly string[] {
  return policyKeys ?? identity.releaseKeys ?? [];
}

/** A daimon's lifecycle hooks: the tunnel's, and the same steps for another transport to call. */
export interface DaimonLifecycle {
  /** Hooks the tunnel client calls (welcome, heartbeat ack, upgrade frame). */
  tunnel: TunnelLifecycle;
  /** The CP was reached another way (a bucket heartbeat written): mark health, report a changed result. */
  contact(): void;
  /** An upgrade order read from the jobs bucket (its artifact comes from the bucket). */
  order(order: UpgradeOrder): void;
  /** Where reports go (the transport's `reportUpgrade`, which picks the tunnel or the bucket); default: the tunnel that welcomed. */
  reportVia(send: (report: UpgradeReport) => void): void;
  /** Abandons a download in progress (the daimon is stopping). */
  stop(): void;
}

/**
 * The daimon's lifecycle on its tunnel: `health.json` on contact with the CP, `result.json` reported on every
 * connect, and upgrade orders carried out (daimon/lifecycle/upgrader.ts).
 */
export function createDaimonLifecycle(opts: DaimonLifecycleOptions, deps: { log: Logger; now?: () => number; onRestart: () => void }): DaimonLifecycle {
  const paths = lifecyclePaths(opts.stateDir);
  const log = deps.log.child({ component: 'lifecycle' });
  const health = createHealthMarker(
    { paths, version: opts.version, hostname: opts.hostname },
    { ...(deps.now && { now: deps.now }), onError: (err) => log.error({ err }, 'cannot write health.json') },
  );
  let viaTunnel: (report: UpgradeReport) => void = (report) => log.warn({ state: report.state }, 'no tunnel yet: upgrade status not sent');
  let preferred: ((report: UpgradeReport) => void) | undefined;
  const send = (report: UpgradeReport): void => (preferred ?? viaTunnel)(report);
  const upgrader = createUpgrader(
    {
      paths, version: opts.version, supervised: opts.supervised, ...(opts.runningFile !== undefined && { runningFile: opts.runningFile }),
      trustedKeys: () => trustedReleaseKeys(opts.policyReleaseKeys, opts.identity()),
      credentials: () => opts.identity(),
    },
    { log, ...(deps.now && { now: deps.now }), send: (frame) => send(frame), onRestart: deps.onRestart },
  );
  // On trial (pending.json), the supervisor's verdict lands in result.json shortly after our first contact: watch for it
  // and report it then, rather than at the next contact (a jobs-mode host has no heartbeat acks to wait for).
  let watching: NodeJS.Timeout | undefined;
  const watchVerdict = (): void => {
    if (watching || !existsSync(paths.pending)) return;
    watching = setInterval(() => {
      const decided = !existsSync(paths.pending);
      upgrader.onContact();
      if (decided) {
        clearInterval(watching);
        watching = undefined;
      }
    }, VERDICT_POLL_MS);
    watching.unref();
  };
  const contact = (): void => {
    health.contact();
    upgrader.onContact();
    watchVerdict();
  };
  return {
    tunnel: {
      onWelcome(sender) {
        viaTunnel = (report) => sender({ type: 'upgrade_status', ...report });
        health.contact();
        upgrader.onConnected();
        watchVerdict();
      },
      onHeartbeatAck: contact,
      onUpgrade: (order) => upgrader.order(order),
    },
    contact,
    order: (order) => upgrader.order(order, opts.bucketFetch),
    reportVia(sender) {
      preferred = sender;
    },
    stop() {
      clearInterval(watching);
      upgrader.stop();
    },
  };
}
