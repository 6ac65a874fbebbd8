import { z } from 'zod';

/** Severities from most to least severe. */
export const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO'] as const;
/** A finding severity. */
export type Severity = (typeof SEVERITIES)[number];

/** Finding categories (SPEC §5.2). */
export const CATEGORIES = ['process', 'file', 'network', 'cert', 'cloud', 'identity', 'config', 'other'] as const;
/** A finding category. */
export type Category = (typeof CATEGORIES)[number];

/** Severity accepted in any case on input, upper case on output. */
export const severitySchema = z
  .string()
  .transform((s) => s.trim().toUpperCase())
  .pipe(z.enum(SEVERITIES, { error: `expected one of ${SEVERITIES.join(', ')} (any case)` }));

/** Rank of a severity: CRITICAL = 4 … INFO = 0, so "this level and above" is `rank >= n`. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.length - 1 - SEVERITIES.indexOf(severity);
}

const categorySchema = z
  .string()
  .transform((s) => s.trim().toLowerCase())
  .pipe(z.enum(CATEGORIES, { error: `expected one of ${CATEGORIES.join(', ')}` }));

const evidenceSchema = z
  .union([z.string().max(64 * 1024), z.array(z.string().max(16 * 1024)).max(500)])
  .transform((v) => (typeof v === 'string' ? (v === '' ? [] : v.split('\n')) : v));

/** The fields a run writes for a finding (SPEC §5.2), validated and defaulted. */
export const findingFieldsSchema = z.object({
  severity: severitySchema,
  title: z.string().trim().min(1, 'title must not be empty').max(120, 'title is at most 120 characters'),
  category: categorySchema.default('other'),
  resource: z.string().max(2048).default(''),
  evidence: evidenceSchema.default([]),
  dedup_key: z.string().max(512).default(''),
  recommended_action: z.string().max(4096).optional(),
  tags: z.array(z.string().max(128)).max(64).default([]),
  attributes: z.record(z.string(), z.unknown()).default({}),
});
/** Validated finding fields as a run reports them. */
export type FindingFields = z.infer<typeof findingFieldsSchema>;

/** Triage status of a stored finding. */
export const TRIAGE_STATUSES = ['open', 'acknowledged', 'resolved', 'false_positive'] as const;
/** A triage status. */
export type TriageStatus = (typeof TRIAGE_STATUSES)[number];

/** A finding as the CP stores it and serves it (API, live stream, `tail --json`). */
export const storedFindingSchema = findingFieldsSchema.extend({
  id: z.number().int(),
  fingerprint: z.string(),
  host: z.string(),
  agent: z.string(),
  agent_version: z.string(),
  run_id: z.string(),
  seq: z.number().int(),
  ts: z.number(),
  received_at: z.number(),
  status: z.enum(TRIAGE_STATUSES),
  indicators: z.array(z.string()).default([]),
});
/** A stored finding. */
export type StoredFinding = z.infer<typeof storedFindingSchema>;
