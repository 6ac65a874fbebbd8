import { z } from 'zod';
import { hostSelectorSchema } from './host-selector.js';
import { signedReleaseSchema, versionSchema } from './release.js';

/**
 * Rollouts (issue 15): one operator order to move a set of hosts to a signed release, in a canary then batches.
 * See docs/lifecycle.md for the state machine.
 */

/** A rollout id: `ro_` and 16 lowercase hex digits. */
export const rolloutIdSchema = z.string().regex(/^ro_[0-9a-f]{16}$/);

/**
 * A host's state in a rollout. `pending` (not yet ordered) → `downloading` → `verifying` → `staged` → `restarting`
 * → `healthy` (the new version heartbeated) | `rolled_back` (the supervisor restored the previous version) |
 * `failed` (refused or broke before the swap: untrusted, tampered, older, download failed, offline, timed out).
 */
export const ROLLOUT_HOST_STATES = ['pending', 'downloading', 'verifying', 'staged', 'restarting', 'healthy', 'rolled_back', 'failed'] as const;
/** A host's rollout state. */
export type RolloutHostState = (typeof ROLLOUT_HOST_STATES)[number];
/** States a host does not leave within a rollout. */
export const FINAL_HOST_STATES: readonly RolloutHostState[] = ['healthy', 'rolled_back', 'failed'];

/** A rollout's own state: `running` until every host is final (`completed`), or `halted` by --halt-on-error, or `cancelled`. */
export const ROLLOUT_STATES = ['running', 'completed', 'halted', 'cancelled'] as const;
/** A rollout's state. */
export type RolloutState = (typeof ROLLOUT_STATES)[number];

/** `POST /v1/rollouts`: exactly one of hosts, selector, all. */
export const createRolloutRequestSchema = z
  .strictObject({
    version: versionSchema,
    hosts: z.array(z.string().min(1).max(253)).min(1).max(100_000).optional(),
    /** `label:k=v[,k=v]` (or `all`), as a fan-out takes it. */
    selector: hostSelectorSchema.optional(),
    all: z.literal(true).optional(),
    /** Hosts ordered at a time after the canary (default 10). */
    batch: z.number().int().positive().max(100_000).default(10),
    /** Hosts in the first batch, alone (default 0: none). */
    canary: z.number().int().nonnegative().max(100_000).default(0),
    /** Stop ordering new hosts when a host of the current batch ends rolled_back or failed. */
    halt_on_error: z.boolean().default(false),
    /** How long a restarted host has to heartbeat on the new version before its supervisor rolls back (default 60 s). */
    health_timeout_ms: z.number().int().positive().max(3_600_000).default(60_000),
    allow_downgrade: z.boolean().default(false),
  })
  .refine((r) => [r.hosts !== undefined, r.selector !== undefined, r.all === true].filter(Boolean).length === 1, {
    message: 'give exactly one of hosts, selector or all',
  });
/** A rollout order. */
export type CreateRolloutRequest = z.infer<typeof createRolloutRequestSchema>;

/** One host of a rollout. */
export const rolloutHostViewSchema = z.object({
  hostname: z.string(),
  /** 0 is the canary batch when there is one. */
  batch: z.number().int().nonnegative(),
  state: z.enum(ROLLOUT_HOST_STATES),
  /** The version the host ran when ordered (empty until then). */
  from_version: z.string(),
  reason: z.string().nullable(),
  updated_at: z.number().int(),
});
/** A host in a rollout. */
export type RolloutHostView = z.infer<typeof rolloutHostViewSchema>;

/** A rollout as the API serves it (`GET /v1/rollouts/:id`; the list omits `hosts`). */
export const rolloutViewSchema = z.object({
  rollout_id: rolloutIdSchema,
  version: versionSchema,
  state: z.enum(ROLLOUT_STATES),
  created_at: z.number().int(),
  created_by: z.string(),
  ended_at: z.number().int().nullable(),
  batch: z.number().int(),
  canary: z.number().int(),
  halt_on_error: z.boolean(),
  health_timeout_ms: z.number().int(),
  allow_downgrade: z.boolean(),
  /** Hosts per state. */
  counts: z.record(z.enum(ROLLOUT_HOST_STATES), z.number().int()),
  halted_reason: z.string().nullable(),
  hosts: z.array(rolloutHostViewSchema).optional(),
});
/** A rollout. */
export type RolloutView = z.infer<typeof rolloutViewSchema>;

/**
 * An order to upgrade, as the CP sends it: the tunnel frame `upgrade` carries these fields, and in jobs mode the
 * CP-signed inbox object `hosts/HOST/inbox/ROLLOUT.upgrade` has this body.
 */
export const upgradeOrderSchema = z.object({
  rollout_id: rolloutIdSchema,
  release: signedReleaseSchema,
  allow_downgrade: z.boolean().default(false),
  health_timeout_ms: z.number().int().positive().max(3_600_000),
});
/** An upgrade order. */
export type UpgradeOrder = z.infer<typeof upgradeOrderSchema>;

/** A host's report on an upgrade: the tunnel frame `upgrade_status`, or in jobs mode the host-signed `out/HOST/….upgrade` object's body. */
export const upgradeReportSchema = z.object({
  rollout_id: rolloutIdSchema,
  version: versionSchema,
  state: z.enum(ROLLOUT_HOST_STATES),
  reason: z.string().max(4096).optional(),
});
/** An upgrade report. */
export type UpgradeReport = z.infer<typeof upgradeReportSchema>;
/** A host's state in its latest rollout, as `okesu hosts` and the console show it (`healthy 0.2.0`). */
export const hostRolloutSchema = z.object({
  rollout_id: rolloutIdSchema,
  version: versionSchema,
  state: z.enum(ROLLOUT_HOST_STATES),
});
/** A host's latest rollout state. */
export type HostRollout = z.infer<typeof hostRolloutSchema>;

/**
 * How far a rollout has got: host states only move forward and a rollout leaves `running` once, so a larger score is
 * a later view (the stream and polls may deliver views out of order). The CLI and the console order views by it.
 */
export function rolloutProgress(view: Pick<RolloutView, 'counts' | 'state'>): number {
  const hosts = ROLLOUT_HOST_STATES.reduce((n, s, rank) => n + (view.counts[s] ?? 0) * rank, 0);
  return hosts * 2 + (view.state === 'running' ? 0 : 1);
}
