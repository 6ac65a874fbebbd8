import { z } from 'zod';
import { severitySchema, SEVERITIES } from './finding.js';

/**
 * Alert delivery (issue 19, docs/notifications.md): notification channels configured at the CP, each with rules that
 * pick which new findings it hears of, and the log of what was delivered. Secrets (a webhook's signing secret, a Slack
 * URL, an SMTP password) go in with a channel's creation and never come back out: views say `set`.
 */

/** A channel's name: what `okesu notify add KIND NAME` gives and every other command takes. */
export const channelNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'a channel name is 1-64 letters, digits, _ . - (starting with a letter or digit)');

/** The kinds of channel. */
export const CHANNEL_KINDS = ['webhook', 'slack', 'email'] as const;
/** A kind of channel. */
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** True when `tz` is a time zone this runtime knows (IANA name, or UTC). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * A daily quiet period, `22:00-07:00` in a time zone (default UTC): deliveries that fall in it are held and sent as one
 * digest when it ends. Start and end may cross midnight; equal start and end is refused (it would be all day).
 */
export const quietPeriodSchema = z
  .strictObject({
    start: z.string().regex(HHMM, 'expected HH:MM (24 h)'),
    end: z.string().regex(HHMM, 'expected HH:MM (24 h)'),
    tz: z.string().max(64).default('UTC').refine(isTimeZone, 'not a time zone this CP knows (e.g. UTC, Europe/Paris)'),
  })
  .refine((q) => q.start !== q.end, 'a quiet period must not start and end at the same minute');
/** A validated quiet period. */
export type QuietPeriod = z.infer<typeof quietPeriodSchema>;

/** Parses `22:00-07:00` (the CLI's form) into a quiet period's start and end; undefined when malformed. */
export function parseQuietRange(text: string): { start: string; end: string } | undefined {
  const m = /^\s*(\d{2}:\d{2})\s*-\s*(\d{2}:\d{2})\s*$/.exec(text);
  return m && HHMM.test(m[1] as string) && HHMM.test(m[2] as string) ? { start: m[1] as string, end: m[2] as string } : undefined;
}

const globsSchema = z.array(z.string().min(1).max(256)).max(64).default([]);

/**
 * Which findings a channel hears of, and how they are grouped. Filters are globs (`*`, `?`), every list an "any of" and
 * every list given must match; `labels` are the host's labels (each key's glob must match its value).
 */
export const notifyRulesSchema = z.strictObject({
  /** This severity and above (default HIGH). */
  min_severity: severitySchema.default('HIGH'),
  agents: globsSchema,
  hosts: globsSchema,
  categories: globsSchema,
  labels: z.record(z.string().min(1).max(128), z.string().min(1).max(256)).default({}),
  /** Burst control: when more than `max_groups` new groups reach the channel within `window_ms`, the rest of them are sent as one digest at the end of the window. */
  digest: z.strictObject({
    max_groups: z.number().int().min(1).max(1000).default(5),
    window_ms: z.number().int().min(1000).max(86_400_000).default(300_000),
  }).default({ max_groups: 5, window_ms: 300_000 }),
  quiet: quietPeriodSchema.optional(),
});
/** A channel's rules, defaulted. */
export type NotifyRules = z.infer<typeof notifyRulesSchema>;
/** Rules as a client may write them. */
export type NotifyRulesInput = z.input<typeof notifyRulesSchema>;

const pemSchema = z.string().max(64 * 1024).regex(/-----BEGIN CERTIFICATE-----/, 'expected PEM certificates');
const httpUrlSchema = z.string().max(2048).url().refine((u) => /^https?:\/\//i.test(u), 'expected an http:// or https:// URL');

/** `POST /v1/notify/channels` body (admin), one shape per kind. */
export const createChannelRequestSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('webhook'),
    name: channelNameSchema,
    url: httpUrlSchema,
    /** The HMAC-SHA256 signing secret (at least 16 characters). */
    secret: z.string().min(16, 'a webhook secret is at least 16 characters').max(1024),
    ca_pem: pemSchema.optional(),
    rules: notifyRulesSchema.default(notifyRulesSchema.parse({})),
  }),
  z.strictObject({
    kind: z.literal('slack'),
    name: channelNameSchema,
    /** The incoming-webhook URL (it is the secret). */
    webhook_url: httpUrlSchema,
    rules: notifyRulesSchema.default(notifyRulesSchema.parse({})),
  }),
  z.strictObject({
    kind: z.literal('email'),
    name: channelNameSchema,
    host: z.string().min(1).max(253),
    port: z.number().int().min(1).max(65535).default(587),
    tls: z.enum(['starttls', 'implicit', 'none']).default('starttls'),
    user: z.string().min(1).max(256).optional(),
    password: z.string().min(1).max(1024).optional(),
    from: z.string().min(3).max(320),
    to: z.array(z.string().min(3).max(320)).min(1).max(50),
    ca_pem: pemSchema.optional(),
    rules: notifyRulesSchema.default(notifyRulesSchema.parse({})),
  }),
]);
/** A channel creation, validated. */
export type CreateChannelRequest = z.infer<typeof createChannelRequestSchema>;
/** A channel creation as a client writes it. */
export type CreateChannelInput = z.input<typeof createChannelRequestSchema>;

/** Delivery counts of one channel (or of all). */
export const deliveryCountsSchema = z.object({ pending: z.number().int(), delivered: z.number().int(), failed: z.number().int() });
/** Delivery counts. */
export type DeliveryCounts = z.infer<typeof deliveryCountsSchema>;

/** A channel as the API shows it: where it delivers with every secret replaced by `set`. */
export const channelViewSchema = z.object({
  name: z.string(),
  kind: z.enum(CHANNEL_KINDS),
  /** Non-secret settings (webhook: url; email: host, port, tls, user, from, to); secrets appear as `"set"`. */
  target: z.record(z.string(), z.unknown()),
  rules: notifyRulesSchema,
  created_at: z.number(),
  created_by: z.string(),
  counts: deliveryCountsSchema,
});
/** A channel view. */
export type ChannelView = z.infer<typeof channelViewSchema>;

/** The states of a delivery: `held` gathers a digest (a burst, a quiet period) until it is due. */
export const DELIVERY_STATES = ['held', 'pending', 'delivered', 'failed'] as const;
/** A delivery state. */
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/** One attempt at a delivery, as the log keeps it. */
export const deliveryAttemptSchema = z.object({
  attempt: z.number().int(),
  at: z.number(),
  /** `delivered`, `retry` (a retryable failure, tried again later) or `failed` (given up). */
  outcome: z.enum(['delivered', 'retry', 'failed']),
  /** The receipt (`HTTP 200`) or the error. */
  detail: z.string(),
});
/** One attempt. */
export type DeliveryAttempt = z.infer<typeof deliveryAttemptSchema>;

/** One delivery (an outbox row) with its attempts: what `okesu notify deliveries` lists. */
export const deliveryViewSchema = z.object({
  id: z.string(),
  channel: z.string(),
  kind: z.enum(['finding', 'digest', 'test']),
  state: z.enum(DELIVERY_STATES),
  /** The findings it carries (ids), and how many it stands for (a digest may stand for more). */
  finding_ids: z.array(z.number().int()),
  total: z.number().int(),
  created_at: z.number(),
  /** When it is (or was last) due. */
  due_at: z.number(),
  attempts: z.array(deliveryAttemptSchema),
});
/** A delivery view. */
export type DeliveryView = z.infer<typeof deliveryViewSchema>;

/** `POST /v1/notify/channels/:name/test`: the outcome of one test message sent now. */
export const channelTestResultSchema = z.object({
  channel: z.string(),
  delivery_id: z.string(),
  ok: z.boolean(),
  /** The receipt, or the error. */
  detail: z.string(),
  retryable: z.boolean(),
  ms: z.number(),
});
/** A test's outcome. */
export type ChannelTestResult = z.infer<typeof channelTestResultSchema>;

/** The severities in order, re-exported for the CLI's `--min-severity` help. */
export const NOTIFY_SEVERITIES = SEVERITIES;
