import { z } from 'zod';
import { LIMITS } from './limits.js';
import { dispatchEnvelopeSchema, runIdSchema } from './dispatch.js';
import { labelsSchema } from './labels.js';
import { eventBodySchema } from './event.js';
import { boundedJson } from './json-value.js';
import { upgradeOrderSchema, upgradeReportSchema } from './rollout.js';

const errorCodeSchema = z.string().regex(/^OKS_ERR_[A-Z_]+$/);

/** One spooled event on the wire: its (run, seq) identity and the stamped event. */
export const eventRecordSchema = z.object({
  run_id: runIdSchema,
  seq: z.number().int().nonnegative(),
  event: boundedJson(z.looseObject({ ...eventBodySchema.shape, ts: z.number(), agent: z.string().max(128) })),
});
/** A spooled event record. */
export type EventRecord = z.infer<typeof eventRecordSchema>;

/** The identity of a record, as acknowledged by the CP. */
export const recordKeySchema = z.object({ run_id: runIdSchema, seq: z.number().int().nonnegative() });
/** (run, seq). */
export type RecordKey = z.infer<typeof recordKeySchema>;


/** Frames a daimon sends on its tunnel. The hostname is never in a frame: it comes from the client certificate. */
export const daimonFrameSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('hello'),
    protocol: z.literal(1),
    version: z.string().max(64),
    os: z.string().max(64).default(''),
    arch: z.string().max(64).default(''),
    labels: labelsSchema.default({}),
    running: z.array(runIdSchema).max(10_000).default([]),
    spool_depth: z.number().int().nonnegative().default(0),
    /** Set by a daimon that also polls a jobs bucket (`--transport auto`): the CP may dispatch through the bucket while the tunnel is down. */
    bucket: z.strictObject({ poll_ms: z.number().int().positive().max(86_400_000), interval_ms: z.number().int().positive().max(86_400_000) }).optional(),
  }),
  z.object({
    type: z.literal('heartbeat'),
    seq: z.number().int().nonnegative(),
    ts: z.number(),
    running: z.number().int().nonnegative(),
    spool_depth: z.number().int().nonnegative(),
  }),
  z.object({ type: z.literal('events'), records: z.array(eventRecordSchema).min(1).max(LIMITS.recordsPerFrame) }),
  z.object({
    type: z.literal('dispatch_ack'),
    run_id: runIdSchema,
    accepted: z.boolean(),
    error: z.object({ code: errorCodeSchema, message: z.string().max(4096) }).optional(),
  }),
  z.object({ type: z.literal('error'), code: errorCodeSchema, message: z.string().max(4096) }),
  /** Certificate renewal: a PKCS#10 CSR for a fresh key, same hostname as the tunnel's certificate. */
  z.object({ type: z.literal('renew_cert'), csr: z.string().min(1).max(16 * 1024) }),
  /**
   * Progress of an upgrade the CP ordered (issue 15): downloading → verifying → staged → restarting, or failed with a
   * reason; after the restart, `healthy` (sent by the new version) or `rolled_back` (sent by the old one, with why).
   */
  upgradeReportSchema.extend({ type: z.literal('upgrade_status') }),
]);
/** A frame from a daimon. */
export type DaimonFrame = z.infer<typeof daimonFrameSchema>;

/** Frames the CP sends on a tunnel. */
export const cpFrameSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('welcome'),
    hostname: z.string(),
    heartbeat_interval_ms: z.number().int().positive(),
    server_time: z.number(),
    /**
     * The least window a daimon spreads its reconnect attempts over after losing this tunnel, sized by the CP to its
     * fleet, so a CP restart is met by a paced stream of handshakes instead of one burst. Absent: no floor.
     */
    reconnect_spread_ms: z.number().int().nonnegative().max(600_000).optional(),
  }),
  z.object({ type: z.literal('heartbeat_ack'), seq: z.number().int().nonnegative() }),
  z.object({ type: z.literal('ack'), records: z.array(recordKeySchema).max(LIMITS.recordsPerFrame) }),
  z.object({ type: z.literal('dispatch'), envelope: dispatchEnvelopeSchema }),
  z.object({ type: z.literal('cancel'), run_id: runIdSchema, reason: z.string().max(1024).default('cancelled by an operator') }),
  z.object({ type: z.literal('error'), code: errorCodeSchema, message: z.string().max(4096) }),
  /** The answer to `renew_cert`: the new client certificate (PEM) and its notAfter (ms); a refusal is an error frame OKS_ERR_CERT_RENEWAL. */
  z.object({ type: z.literal('cert_renewed'), certificate: z.string().min(1).max(16_384), not_after: z.number().int() }),
  /**
   * Upgrade to a signed release (issue 15). The daimon verifies `release` against its trusted release keys, refuses
   * an older version unless `allow_downgrade`, downloads the artifact from `GET /v1/releases/VERSION/artifact` (mutual
   * TLS, Range-resumable), stages it and restarts under its supervisor, which rolls back if the new version has not
   * heartbeated within `health_timeout_ms`.
   */
  upgradeOrderSchema.extend({ type: z.literal('upgrade') }),
]);
/** A frame from the CP. */
export type CpFrame = z.infer<typeof cpFrameSchema>;
