import { z } from 'zod';
import { findingFieldsSchema } from './finding.js';
import { boundedJson } from './json-value.js';
import { findingEventHolds, wellFormedEventBody } from './event-fast-path.js';

/** Event types with meaning to the platform (SPEC §5.1); any other type is kept in the transcript and otherwise ignored. */
export const KNOWN_EVENT_TYPES = [
  'run_start', 'collector_result', 'text', 'tool_call', 'tool_result', 'action_denied', 'finding',
  'orchestration_result', 'api_unavailable', 'error', 'run_end', 'tick_start', 'tick_done', 'spool_full', 'findings_suppressed',
] as const;

/** How a run ended. */
export const RUN_END_STATUSES = ['completed', 'failed', 'timeout', 'cancelled'] as const;
/** A terminal run status. */
export type RunEndStatus = (typeof RUN_END_STATUSES)[number];

const eventTypeSchema = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'type must be a lower_snake_case word');

/** The minimal shape of every event body: a JSON object with a `type`. Extra fields ride along, nested at most MAX_JSON_DEPTH levels. */
export const eventBodySchema = boundedJson(z.looseObject({ type: eventTypeSchema }));
/** An event body before the daimon stamps it. */
export type EventBody = z.infer<typeof eventBodySchema>;

/** `eventBodySchema.safeParse(value)`, answering the common well-formed shape without zod (the same data). */
export function safeParseEventBody(value: unknown): { success: true; data: EventBody } | { success: false; error: z.ZodError } {
  const body = wellFormedEventBody(value);
  if (body) return { success: true, data: body };
  const parsed = eventBodySchema.safeParse(value);
  return parsed.success ? { success: true, data: parsed.data } : { success: false, error: parsed.error };
}

/** Stricter schemas for the types whose fields the platform reads. */
export const findingEventSchema = findingFieldsSchema.extend({ type: z.literal('finding') }).loose();
export const runEndEventSchema = z.looseObject({
  type: z.literal('run_end'),
  status: z.enum(RUN_END_STATUSES),
  duration_ms: z.number().nonnegative().optional(),
  findings: z.number().int().nonnegative().optional(),
  error: z.string().optional(),
  usage: z.object({ input_tokens: z.number().optional(), output_tokens: z.number().optional() }).optional(),
});
export const orchestrationResultEventSchema = z.looseObject({
  type: z.literal('orchestration_result'),
  attributes: z.record(z.string(), z.unknown()),
});

/**
 * `findings_suppressed`: how many findings of the run the host policy's `suppress:` list dropped before they were
 * spooled, per entry (its position, where it is written, its agent/rule, reason and expiry). The findings themselves
 * never leave the host. A CP that does not know the type keeps it in the transcript.
 */
export const findingsSuppressedEventSchema = z.looseObject({
  type: z.literal('findings_suppressed'),
  count: z.number().int().nonnegative(),
  by: z.array(z.looseObject({
    entry: z.number().int().nonnegative(), at: z.string(), agent: z.string(), rule: z.string().optional(), reason: z.string(), expires: z.string(),
    count: z.number().int().nonnegative(),
  })),
});

/** Fields the daimon stamps on every event it relays. */
export const stampSchema = z.object({
  ts: z.number(),
  host: z.string(),
  agent: z.string(),
  run_id: z.string(),
  seq: z.number().int().nonnegative(),
});

/** A relayed event: a body plus the daimon's stamp. */
export const runEventSchema = eventBodySchema.extend(stampSchema.shape);
/** A relayed, stamped event. */
export type RunEvent = z.infer<typeof runEventSchema>;

/** Validates a body against the stricter schema of its type, if it has one; returns an error message naming the field, or undefined. */
export function checkTypedEvent(body: EventBody): string | undefined {
  if (findingEventHolds(body)) return undefined;
  const schema =
    body.type === 'finding' ? findingEventSchema
    : body.type === 'run_end' ? runEndEventSchema
    : body.type === 'orchestration_result' ? orchestrationResultEventSchema
    : undefined;
  if (!schema) return undefined;
  const parsed = schema.safeParse(body);
  return parsed.success ? undefined : describeIssues(parsed.error);
}

/** One line naming every failing path and what was expected, e.g. `severity: expected one of …`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
