import { existsSync, rmSync } from 'node:fs';
import type { Logger } from 'pino';
import { OkesuError } from '../../src/errors.js';
import { readFileIfExists, writeFileAtomic } from '../../src/files/atomic-write.js';
import { compareVersions, versionSchema, type ReleaseManifest } from '../../src/protocol/release.js';
import type { UpgradeOrder, UpgradeReport } from '../../src/protocol/rollout.js';
import { verifyRelease } from '../../src/release/release-signing.js';
import { downloadArtifact, RetryableDownloadError, sha256File } from './download-artifact.js';
import { stageUpgrade } from './stage-upgrade.js';
import { upgradeResultSchema, type LifecyclePaths, type UpgradeResult } from './state-layout.js';

export type { UpgradeOrder, UpgradeReport } from '../../src/protocol/rollout.js';

/** The credentials the artifact download uses: the tunnel's (read fresh: a renewal replaces certificate and key). */
export interface DownloadCredentials {
  cp: string;
  certPem: string;
  keyPem: string;
  caPem: string;
  credential: string;
}

/** What the upgrader is built from. */
export interface UpgraderOptions {
  paths: LifecyclePaths;
  /** The version running. */
  version: string;
  /** True under `okesu supervise` (OKESU_SUPERVISOR_PID set): without a supervisor nothing could roll a bad version back. */
  supervised: boolean;
  /** The okesu executable this daimon runs from: the rollback target of a first upgrade (no `bin/current` yet). */
  runningFile?: string;
  /** This host's platform as releases name it (default `${process.platform}-${process.arch}`). */
  platform?: string;
  /** The release keys trusted now (the host policy's, else the CP's from registration). */
  trustedKeys: () => readonly string[];
  credentials: () => DownloadCredentials;
  /** Download attempts before giving up, each continuing where the last stopped (default 3). */
  attempts?: number;
}

/** What the upgrader is given. */
export interface UpgraderDeps {
  log: Logger;
  now?: () => number;
  /** Sends a report to the CP (`upgrade_status` on the tunnel; dropped when it is down: `result.json` carries the final word). */
  send: (frame: UpgradeReport) => void;
  /** The new version is staged and `bin/current` swapped: stop cleanly and exit 75 so the supervisor starts it. */
  onRestart: () => void;
}

/** The daimon's side of an upgrade (docs/lifecycle.md, Upgrade steps 4 and 6). */
export interface Upgrader {
  /** Handles an `upgrade` frame: one upgrade at a time; the same rollout ordered again meanwhile is ignored. */
  order(frame: UpgradeOrder): void;
  /** The tunnel is up (welcome): report `result.json` if there is one. */
  onConnected(): void;
  /** A heartbeat was acknowledged: report `result.json` if it changed since last reported (the supervisor writes it). */
  onContact(): void;
  /** Abandons a download in progress (the daimon is stopping); its part file is kept for the next order. */
  stop(): void;
}

/** The version a signed release claims, before it is verified: only to label a refusal. */
function claimedVersion(release: UpgradeOrder['release']): string | undefined {
  try {
    const v = versionSchema.safeParse((JSON.parse(release.manifest) as { version?: unknown }).version);
    return v.success ? v.data : undefined;
  } catch {
    return undefined;
  }
}

/** Builds the upgrader of one daimon. */
export function createUpgrader(opts: UpgraderOptions, deps: UpgraderDeps): Upgrader {
  const { paths } = opts;
  const { log } = deps;
  const now = deps.now ?? Date.now;
  const platform = opts.platform ?? `${process.platform}-${process.arch}`;
  let active: { rolloutId: string; abort: AbortController } | undefined;
  let lastReported: string | undefined;

  const status = (order: UpgradeOrder, version: string, state: UpgradeReport['state'], reason?: string): void => {
    deps.send({ rollout_id: order.rollout_id, version, state, ...(reason !== undefined && { reason: reason.slice(0, 4096) }) });
  };

  /** Reports a refusal or failure now, and keeps it in `result.json` so a reconnect repeats it if the tunnel was down. */
  const fail = (order: UpgradeOrder, version: string, reason: string): void => {
    log.warn({ rollout_id: order.rollout_id, version, reason }, 'upgrade refused or failed');
    const result: UpgradeResult = { rollout_id: order.rollout_id, version, outcome: 'failed', reason: reason.slice(0, 4096), at: now() };
    try {
      writeFileAtomic(paths.result, `${JSON.stringify(result)}\n`);
    } catch (err) {
      log.error({ err }, 'cannot write upgrade/result.json');
    }
    status(order, version, 'failed', reason);
  };

  /** Checks an order; the verified manifest when it should be downloaded, undefined when it was answered already. */
  const check = (order: UpgradeOrder): ReleaseManifest | undefined => {
    const claimed = claimedVersion(order.release) ?? opts.version;
    if (!opts.supervised) {
      fail(order, claimed, 'not running under okesu supervise (OKESU_SUPERVISOR_PID is not set): nothing could roll back a bad version');
      return undefined;
    }
    let manifest: ReleaseManifest;
    try {
      manifest = verifyRelease(order.release, opts.trustedKeys());
    } catch (err) {
      fail(order, claimed, (err as Error).message);
      return undefined;
    }
    const v = manifest.version;
    if (manifest.platform !== platform) {
      fail(order, v, new OkesuError('OKS_ERR_RELEASE_INVALID', `release ${v} is built for ${manifest.platform}, this host is ${platform}`).message);
      return undefined;
    }
    const cmp = compareVersions(v, opts.version);
    if (cmp === 0) {
      log.info({ rollout_id: order.rollout_id, version: v }, 'this version already runs: healthy');
      status(order, v, 'healthy');
      return undefined;
    }
    if (cmp < 0 && !order.allow_downgrade) {
      fail(order, v, new OkesuError('OKS_ERR_RELEASE_DOWNGRADE', `${v} is older than ${opts.version}, the version running`).message);
      return undefined;
    }
    if (existsSync(paths.pending)) {
      fail(order, v, new OkesuError('OKS_ERR_UPGRADE', 'this version is itself on trial (upgrade/pending.json): wait until it is judged healthy').message);
      return undefined;
    }
    return manifest;
  };

  const download = async (order: UpgradeOrder, manifest: ReleaseManifest, signal: AbortSignal): Promise<string> => {
    const part = paths.download(manifest.version);
    const attempts = opts.attempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      const c = opts.credentials();
      try {
        const done = await downloadArtifact({
          url: new URL(`/v1/releases/${encodeURIComponent(manifest.version)}/artifact`, c.cp), certPem: c.certPem, keyPem: c.keyPem, caPem: c.caPem,
          credential: c.credential, partPath: part, size: manifest.size, signal,
        });
        log.info({ rollout_id: order.rollout_id, version: manifest.version, resumed_from: done.resumedFrom, received: done.received }, 'release downloaded');
        return part;
      } catch (err) {
        if (signal.aborted || !(err instanceof RetryableDownloadError) || attempt >= attempts) throw err;
        log.warn({ err: err.message, attempt }, 'release download interrupted; continuing');
      }
    }
  };

  const run = async (order: UpgradeOrder, signal: AbortSignal): Promise<boolean> => {
    const manifest = check(order);
    if (!manifest) return false;
    const v = manifest.version;
    const olog = log.child({ rollout_id: order.rollout_id, version: v });
    olog.info({ from: opts.version, size: manifest.size }, 'upgrade ordered: downloading');
    status(order, v, 'downloading');
    let part: string;
    try {
      part = await download(order, manifest, signal);
    } catch (err) {
      if (signal.aborted) return false;
      fail(order, v, (err as Error).message);
      return false;
    }
    if (signal.aborted) return false;
    status(order, v, 'verifying');
    const sha = await sha256File(part);
    if (sha !== manifest.sha256) {
      rmSync(part, { force: true });
      fail(order, v, new OkesuError('OKS_ERR_RELEASE_MISMATCH', `the downloaded artifact's SHA-256 is ${sha}, the signed manifest says ${manifest.sha256}`).message);
      return false;
    }
    if (signal.aborted) return false;
    if (!opts.runningFile && !existsSync(paths.current)) {
      fail(order, v, new OkesuError('OKS_ERR_UPGRADE', 'cannot tell which file this okesu runs from, so there would be nothing to roll back to').message);
      return false;
    }
    try {
      stageUpgrade(paths, {
        part, rolloutId: order.rollout_id, fromVersion: opts.version, toVersion: v, healthTimeoutMs: order.health_timeout_ms,
        runningFile: opts.runningFile ?? paths.current, now: now(),
      });
    } catch (err) {
      fail(order, v, new OkesuError('OKS_ERR_UPGRADE', `staging ${v}: ${(err as Error).message}`).message);
      return false;
    }
    status(order, v, 'staged');
    status(order, v, 'restarting');
    olog.info({ health_timeout_ms: order.health_timeout_ms }, 'upgrade staged: restarting into the new version');
    deps.onRestart();
    return true;
  };

  const report = (force: boolean): void => {
    const text = readFileIfExists(paths.result);
    if (text === undefined || (!force && text === lastReported)) return;
    lastReported = text;
    let result: UpgradeResult;
    try {
      result = upgradeResultSchema.parse(JSON.parse(text));
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'upgrade/result.json is unreadable; not reported');
      return;
    }
    deps.send({ rollout_id: result.rollout_id, version: result.version, state: result.outcome, ...(result.reason !== undefined && { reason: result.reason }) });
  };

  return {
    order(frame) {
      if (active) {
        if (active.rolloutId === frame.rollout_id) return log.info({ rollout_id: frame.rollout_id }, 'upgrade already in progress for this rollout; repeated order ignored');
        return fail(frame, claimedVersion(frame.release) ?? opts.version, new OkesuError('OKS_ERR_UPGRADE', `another upgrade (rollout ${active.rolloutId}) is in progress`).message);
      }
      const current = { rolloutId: frame.rollout_id, abort: new AbortController() };
      active = current;
      void run(frame, current.abort.signal).then(
        (restarting) => {
          // After the swap the daimon is stopping: later orders wait for the new version.
          if (!restarting && active === current) active = undefined;
        },
        (err: unknown) => {
          if (active === current) active = undefined;
          fail(frame, claimedVersion(frame.release) ?? opts.version, new OkesuError('OKS_ERR_UPGRADE', (err as Error).message).message);
        },
      );
    },
    onConnected: () => report(true),
    onContact: () => report(false),
    stop() {
      active?.abort.abort();
    },
  };
}
