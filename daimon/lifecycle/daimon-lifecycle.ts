import type { Logger } from 'pino';
import type { DaimonIdentity } from '../identity.js';
import type { TunnelLifecycle } from '../tunnel-client.js';
import { createHealthMarker } from './health-mark.js';
import { lifecyclePaths } from './state-layout.js';
import { createUpgrader, type UpgradeReport } from './upgrader.js';

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
}

/** The release keys an upgrade must be signed by: the host policy's when it names some, else the CP's. */
export function trustedReleaseKeys(policyKeys: readonly string[] | undefined, identity: Pick<DaimonIdentity, 'releaseKeys'>): readonly string[] {
  return policyKeys ?? identity.releaseKeys ?? [];
}

/**
 * The daimon's lifecycle on its tunnel: `health.json` on contact with the CP, `result.json` reported on every
 * connect, and upgrade orders carried out (daimon/lifecycle/upgrader.ts).
 */
export function createDaimonLifecycle(opts: DaimonLifecycleOptions, deps: { log: Logger; now?: () => number; onRestart: () => void }): { tunnel: TunnelLifecycle; stop(): void } {
  const paths = lifecyclePaths(opts.stateDir);
  const log = deps.log.child({ component: 'lifecycle' });
  const health = createHealthMarker(
    { paths, version: opts.version, hostname: opts.hostname },
    { ...(deps.now && { now: deps.now }), onError: (err) => log.error({ err }, 'cannot write health.json') },
  );
  let send: (report: UpgradeReport) => void = (report) => log.warn({ state: report.state }, 'no tunnel yet: upgrade status not sent');
  const upgrader = createUpgrader(
    {
      paths, version: opts.version, supervised: opts.supervised, ...(opts.runningFile !== undefined && { runningFile: opts.runningFile }),
      trustedKeys: () => trustedReleaseKeys(opts.policyReleaseKeys, opts.identity()),
      credentials: () => opts.identity(),
    },
    { log, ...(deps.now && { now: deps.now }), send: (frame) => send(frame), onRestart: deps.onRestart },
  );
  return {
    tunnel: {
      onWelcome(sender) {
        send = (report) => sender({ type: 'upgrade_status', ...report });
        health.contact();
        upgrader.onConnected();
      },
      onHeartbeatAck() {
        health.contact();
        upgrader.onContact();
      },
      onUpgrade: (order) => upgrader.order(order),
    },
    stop: () => upgrader.stop(),
  };
}
