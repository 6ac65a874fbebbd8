import type { CreateRolloutRequest, HostRollout, RolloutView, UpgradeReport } from '../../protocol/rollout.js';
import type { Actor } from '../store/audit.js';

/** A host's progress report on an upgrade (the `upgrade_status` frame, or a jobs-mode status object). */
export type UpgradeStatusReport = UpgradeReport;

/**
 * Rollouts (issue 15): orders hosts to upgrade to a stored release, a canary then batches, and follows each host
 * through its states to healthy, rolled_back or failed; halts on a bad batch when asked. Every change is stored,
 * audited (creation, halt, cancel) and published on the live stream (feed kind `rollout`).
 */
export interface Rollouts {
  /**
   * Starts a rollout; throws OKS_ERR_NOT_FOUND (no such release), OKS_ERR_BAD_REQUEST (no host matches), OKS_ERR_STATE
   * (a host is not yet final in another running rollout).
   */
  create(request: CreateRolloutRequest, actor: string | Actor): RolloutView;
  get(rolloutId: string): RolloutView | undefined;
  /** Newest first, without hosts. */
  list(limit: number): RolloutView[];
  /** Stops ordering hosts; hosts already ordered finish their upgrade. */
  cancel(rolloutId: string, actor: string | Actor): RolloutView;
  /** A host reported progress (through its tunnel or the bucket). Repeats and reports for final hosts are ignored. */
  onUpgradeStatus(hostname: string, report: UpgradeStatusReport): void;
  /** A host connected running `version` (a restarted host on the new version is healthy once it heartbeats). */
  onHello(hostname: string, version: string): void;
  /** The state of the host in its latest rollout, for `okesu hosts` and the console. */
  hostState(hostname: string): HostRollout | undefined;
  /** True while a running rollout targets `version`: the release store does not prune it. */
  inUse(version: string): boolean;
  start(): void;
  stop(): void;
}
