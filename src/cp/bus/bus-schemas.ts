import { z } from 'zod';
import { dispatchEnvelopeSchema, runIdSchema } from '../../protocol/dispatch.js';
import { upgradeOrderSchema, upgradeReportSchema } from '../../protocol/rollout.js';
import type { FeedKind } from '../store/feed.js';
import type { CpMessages, DeliveryAnswer, HostDelivery } from './cp-bus.js';

// Every FeedKind, checked both ways against the type so a new kind cannot be forgotten here.
const FEED_KINDS = ['finding', 'host', 'run', 'orchestration_run', 'triage', 'rollout'] as const satisfies readonly FeedKind[];
type MissingFeedKind = Exclude<FeedKind, (typeof FEED_KINDS)[number]>;
const noMissingFeedKind: MissingFeedKind extends never ? true : false = true;
void noMissingFeedKind;

const feedMessageSchema = z.object({
  entries: z.array(z.object({ cursor: z.number().int().nonnegative(), kind: z.enum(FEED_KINDS), payload: z.unknown() })),
});

const tunnelChangedSchema = z.object({ hostname: z.string().min(1).max(255), replica: z.string().min(1).max(128), up: z.boolean() });

/** What a message from another replica must look like, per topic (a topic without a schema does not compile). */
export const busMessageSchemas: { [K in keyof CpMessages]: z.ZodType<CpMessages[K]> } = {
  feed: feedMessageSchema,
  'tunnel.changed': tunnelChangedSchema,
  'host.report': z.union([
    z.object({ hostname: z.string().min(1).max(255), version: z.string().min(1).max(200) }).strict(),
    z.object({ hostname: z.string().min(1).max(255), upgrade: upgradeReportSchema }).strict(),
  ]),
};

/** A `deliver` request as it arrives from another replica. */
export const hostDeliverySchema: z.ZodType<HostDelivery> = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('dispatch'), hostname: z.string().min(1), envelope: dispatchEnvelopeSchema }),
  z.object({ kind: z.literal('cancel'), hostname: z.string().min(1), run_id: runIdSchema, reason: z.string().max(4096) }),
  z.object({ kind: z.literal('upgrade'), hostname: z.string().min(1), order: upgradeOrderSchema }),
  z.object({ kind: z.literal('disconnect'), hostname: z.string().min(1), code: z.literal('OKS_ERR_HOST_REVOKED') }),
]);

/** The answer to a `deliver` request. */
export const deliveryAnswerSchema: z.ZodType<DeliveryAnswer> = z.discriminatedUnion('delivered', [
  z.object({ delivered: z.literal(true), replica: z.string() }),
  z.object({ delivered: z.literal(false), error: z.string() }),
]);
