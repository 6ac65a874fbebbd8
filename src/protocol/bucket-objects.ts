import { z } from 'zod';
import { hostnameSchema, registerRequestSchema } from './api.js';
import { dispatchEnvelopeSchema, runIdSchema } from './dispatch.js';
import { labelsSchema } from './labels.js';
import { releasePublicKeySchema } from './release.js';
import { upgradeOrderSchema, upgradeReportSchema } from './rollout.js';
import { eventRecordSchema } from './tunnel.js';

/**
 * The objects of the jobs transport (SPEC §3.2; layout and reasons in docs/jobs-mode.md). Every object is a signed
 * text: a header line naming its kind, its key, its writer, its reader and its lifetime; body lines (JSON each); a
 * signature line over everything before it. The schemas here are the header and the body of each kind; the encoding
 * and signing is `src/transport/bucket/signed-object.ts`.
 */
export const OBJECT_KINDS = ['job', 'cancel', 'claim', 'events', 'exit', 'heartbeat', 'reg_req', 'reg_ans', 'renew_req', 'renew_ans', 'upgrade', 'upgrade_status'] as const;
/** A kind of bucket object. */
export type ObjectKind = (typeof OBJECT_KINDS)[number];

/** Largest object either side reads; a bigger one is quarantined unread. */
export const MAX_OBJECT_BYTES = 4 * 1024 * 1024;
/** Most event records in one `events` object. */
export const MAX_RECORDS_PER_OBJECT = 1000;
/** How far a writer's clock may run ahead of the reader's before `issued_at` is refused as from the future. */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** `cp` for the control plane, `host:<hostname>` for a daimon. */
export const partySchema = z
  .string()
  .max(300)
  .refine((s) => s === 'cp' || (s.startsWith('host:') && hostnameSchema.safeParse(s.slice(5)).success), 'expected "cp" or "host:<hostname>"');
/** A writer or reader of an object: `cp` or `host:<hostname>`. */
export type Party = string;

/** The party name of a host. */
export const hostParty = (hostname: string): string => `host:${hostname}`;

/** The first line of every object. `key` is the object's key under the bucket prefix: a copy elsewhere is refused. */
export const objectHeaderSchema = z.strictObject({
  v: z.literal(1),
  kind: z.enum(OBJECT_KINDS),
  key: z.string().min(1).max(1024),
  from: partySchema,
  to: partySchema,
  issued_at: z.number().int().nonnegative(),
  expires_at: z.number().int().nonnegative(),
});
/** A validated object header. */
export type ObjectHeader = z.infer<typeof objectHeaderSchema>;

/** `job`: one line, the dispatch envelope (CP → host). Expires when the run's timeout would have passed. */
export const jobBodySchema = dispatchEnvelopeSchema;

/** `cancel`: one line (CP → host). */
export const cancelBodySchema = z.strictObject({ run_id: runIdSchema, reason: z.string().max(4096) });
export type CancelBody = z.infer<typeof cancelBodySchema>;

/** `claim`: one line (host → whoever reads the inbox): which poller took the job. */
export const claimBodySchema = z.strictObject({ run_id: runIdSchema, poller: z.string().min(1).max(64) });
export type ClaimBody = z.infer<typeof claimBodySchema>;

/** `events`: one line per record, 1..MAX_RECORDS_PER_OBJECT (host → CP). */
export const eventsBodyLineSchema = eventRecordSchema;

/** `exit`: one line (host → CP), written once every record of the run is in the bucket: the CP may clean up the run's inbox. */
export const exitBodySchema = z.strictObject({
  run_id: runIdSchema,
  status: z.string().min(1).max(32),
  last_seq: z.number().int().nonnegative(),
});
export type ExitBody = z.infer<typeof exitBodySchema>;

/**
 * `upgrade`: one line (CP → host) at `hosts/<host>/inbox/<rollout>.upgrade`, signed with the CA key: the order of one
 * rollout (the same fields as the tunnel's `upgrade` frame). The release inside carries its own signature; the artifact
 * is at `releases/<version>/artifact`, unsigned by the CP (the manifest's SHA-256 and size are what a host checks).
 */
export const upgradeBodySchema = upgradeOrderSchema;

/** `upgrade_status`: one line (host → CP) at `out/<host>/<ms>-<nonce>.upgrade`: its state in a rollout (the tunnel's `upgrade_status`). */
export const upgradeStatusBodySchema = upgradeReportSchema;

/** The transport a daimon runs: only the bucket, or the tunnel with the bucket behind it. */
export const BUCKET_MODES = ['jobs', 'auto'] as const;

/** `heartbeat`: one line (host → CP), overwritten at `hb/<hostname>`. `interval_ms` is the time between heartbeats. */
export const heartbeatBodySchema = z.strictObject({
  seq: z.number().int().nonnegative(),
  mode: z.enum(BUCKET_MODES),
  poll_ms: z.number().int().positive().max(86_400_000),
  interval_ms: z.number().int().positive().max(86_400_000),
  version: z.string().max(64),
  running: z.array(runIdSchema).max(10_000),
  spool_depth: z.number().int().nonnegative(),
  labels: labelsSchema.optional(),
});
export type HeartbeatBody = z.infer<typeof heartbeatBodySchema>;

/**
 * `reg_req`: one line (would-be host → CP), signed with the key of its CSR. `proof` is HMAC-SHA256, keyed with the
 * SHA-256 of the join token's secret, over `registrationProofInput(...)`: the token's secret never enters the bucket.
 */
export const regRequestBodySchema = registerRequestSchema.omit({ token: true }).extend({
  token_id: z.string().regex(/^[0-9a-f]{16}$/),
  nonce: z.string().regex(/^[0-9a-f]{32}$/),
  proof: z.string().regex(/^[0-9a-f]{64}$/),
});
export type RegRequestBody = z.infer<typeof regRequestBodySchema>;

/** A sealed secret: ECDH (P-256, the CP's ephemeral key with the CSR's key) → HKDF-SHA256 → AES-256-GCM. */
export const sealedSchema = z.strictObject({
  epk: z.string().max(512),
  iv: z.string().max(64),
  ct: z.string().max(4096),
  tag: z.string().max(64),
});
export type Sealed = z.infer<typeof sealedSchema>;

/** `reg_ans`: one line (CP → would-be host), signed with the CA key; the CA certificate in it must match the token's pin. */
export const regAnswerBodySchema = z.union([
  z.strictObject({
    ok: z.literal(true),
    hostname: hostnameSchema,
    nonce: z.string().regex(/^[0-9a-f]{32}$/),
    certificate: z.string().max(16 * 1024),
    ca: z.string().max(16 * 1024),
    credential: sealedSchema,
    /** The release public keys the CP trusts (issue 15), as the HTTP registration answer's `release_keys`. */
    release_keys: z.array(releasePublicKeySchema).max(16).optional(),
  }),
  z.strictObject({
    ok: z.literal(false),
    hostname: hostnameSchema,
    nonce: z.string().regex(/^[0-9a-f]{32}$/),
    ca: z.string().max(16 * 1024),
    code: z.string().regex(/^OKS_ERR_[A-Z_]+$/),
    message: z.string().max(4096),
  }),
]);
export type RegAnswerBody = z.infer<typeof regAnswerBodySchema>;

/**
 * `renew_req`: one line (host → CP), signed with the host's current key: a CSR for a new key, same hostname. The CP
 * answers at the same nonce (docs/jobs-mode.md, Identity).
 */
export const renewRequestBodySchema = z.strictObject({
  csr: z.string().max(16 * 1024),
  nonce: z.string().regex(/^[0-9a-f]{32}$/),
});
export type RenewRequestBody = z.infer<typeof renewRequestBodySchema>;

/** `renew_ans`: one line (CP → host), signed with the CA key: the certificate for the CSR's key, or why not. */
export const renewAnswerBodySchema = z.union([
  z.strictObject({
    nonce: z.string().regex(/^[0-9a-f]{32}$/),
    ok: z.literal(true),
    certificate: z.string().max(16 * 1024),
  }),
  z.strictObject({
    nonce: z.string().regex(/^[0-9a-f]{32}$/),
    ok: z.literal(false),
    code: z.string().regex(/^OKS_ERR_[A-Z_]+$/),
    message: z.string().max(4096),
  }),
]);
export type RenewAnswerBody = z.infer<typeof renewAnswerBodySchema>;

/** Domain-separation prefix of every signature, so one never verifies as anything else (an X.509 body, an agent file). */
export const SIGNATURE_DOMAIN = 'okesu-bucket-object-v1\n';

/** The bytes a registration proof covers. */
export function registrationProofInput(body: Omit<RegRequestBody, 'proof'>): string {
  return ['okesu-bucket-register-v1', body.token_id, body.nonce, body.hostname, body.csr].join('\n');
}
