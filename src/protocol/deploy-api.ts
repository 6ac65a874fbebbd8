import { z } from 'zod';

/**
 * Deploy over SSH (issue 15): `okesu deploy` runs on the operator's machine (the SSH key never leaves it) and asks the
 * CP for what only the CP can give — a single-use join token bound to the target's hostname, and the SSH host key
 * pinned for that target — then reports the outcome, which the CP audits and uses to pin the key on first use.
 */

/** An SSH target as the operator wrote it, normalised: `user@host:port`. */
export const sshTargetSchema = z.string().min(3).max(300).regex(/^[A-Za-z0-9._-]+@[A-Za-z0-9.:_[\]-]+:\d{1,5}$/, 'expected user@host:port');

/** The SHA-256 fingerprint of an SSH host key as OpenSSH prints it: `SHA256:` and unpadded base64. */
export const sshHostKeyFingerprintSchema = z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/);

/** `POST /v1/deploy/prepare` (operator role). */
export const deployPrepareRequestSchema = z.strictObject({
  target: sshTargetSchema,
  /** The hostname the daimon will register as (what the target's `hostname` printed, or `--hostname`). */
  hostname: z.string().min(1).max(253),
  /** Lifetime of the join token (default 30 min). */
  ttl_ms: z.number().int().positive().max(86_400_000).default(1_800_000),
});
/** A deploy's preparation. */
export type DeployPrepareRequest = z.infer<typeof deployPrepareRequestSchema>;

/** What the CP answers: the single-use join token for `hostname`, and the pinned host key of `target` if any. */
export const deployPrepareResponseSchema = z.object({
  deploy_id: z.string().regex(/^dp_[0-9a-f]{16}$/),
  join_token: z.string(),
  /** The CP URL daimons should use (admin.yaml's), for `okesu install --cp`. */
  cp_url: z.string(),
  pinned_host_key: sshHostKeyFingerprintSchema.nullable(),
});
/** A deploy's preparation answer. */
export type DeployPrepareResponse = z.infer<typeof deployPrepareResponseSchema>;

/** Outcomes a deploy reports. */
export const DEPLOY_OUTCOMES = ['installed', 'unchanged', 'upgraded', 'failed'] as const;

/** `POST /v1/deploy/result` (operator role): what happened; pins `host_key` when none was pinned for the target. */
export const deployResultRequestSchema = z.strictObject({
  deploy_id: z.string().regex(/^dp_[0-9a-f]{16}$/),
  target: sshTargetSchema,
  hostname: z.string().min(1).max(253),
  outcome: z.enum(DEPLOY_OUTCOMES),
  host_key: sshHostKeyFingerprintSchema.nullable(),
  /** Why it failed (a sentence), when it did. */
  error: z.string().max(4096).optional(),
});
/** A deploy's outcome. */
export type DeployResultRequest = z.infer<typeof deployResultRequestSchema>;
