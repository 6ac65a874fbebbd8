import { z } from 'zod';
import { storedFindingSchema, SEVERITIES, TRIAGE_STATUSES } from './finding.js';

/**
 * Operator bodies and views for working with findings beyond listing them: triage, fingerprint groups, indicator
 * clusters, one finding with its raw event, and the CP's agent library (what the console's dispatch view offers).
 */

/** What triage applies to: one finding, or every stored finding of its fingerprint group. */
export const TRIAGE_SCOPES = ['finding', 'group'] as const;

/** POST /v1/findings/:id/triage. */
export const triageRequestSchema = z.object({
  status: z.enum(TRIAGE_STATUSES),
  scope: z.enum(TRIAGE_SCOPES).default('finding'),
  reason: z.string().max(1024).default(''),
});
/** A triage request. */
export type TriageRequest = z.infer<typeof triageRequestSchema>;

/** A triage decision as the answer and the live stream (`triage` messages) carry it. */
export const triageViewSchema = z.object({
  finding_id: z.number().int(),
  fingerprint: z.string(),
  scope: z.enum(TRIAGE_SCOPES),
  status: z.enum(TRIAGE_STATUSES),
  reason: z.string(),
  /** How many stored findings changed status. */
  updated: z.number().int(),
  by: z.string(),
  role: z.string(),
  ts: z.number(),
});
/** A triage decision. */
export type TriageView = z.infer<typeof triageViewSchema>;

/**
 * A host policy `suppress:` entry the CP suggests when an operator marks a finding (or its group) false positive:
 * structured, and as YAML ready to paste into the host's /etc/okesu/policy.yaml. The CP never writes host policy.
 */
export const suppressSuggestionSchema = z.object({
  agent: z.string(),
  rule: z.string().optional(),
  match: z.object({ resource: z.string().optional(), title: z.string().optional(), dedup_key: z.string().optional(), evidence: z.string().optional() }),
  reason: z.string(),
  /** `YYYY-MM-DD`, 90 days after the triage. */
  expires: z.string(),
  yaml: z.string(),
});
/** A suggested suppression. */
export type SuppressSuggestion = z.infer<typeof suppressSuggestionSchema>;

/** The answer of POST /v1/findings/:id/triage: the decision, and for `false_positive` a suggested host suppression. */
export const triageAnswerSchema = triageViewSchema.extend({ suggested_suppress: suppressSuggestionSchema.optional() });
/** A triage answer. */
export type TriageAnswer = z.infer<typeof triageAnswerSchema>;

/** GET /v1/findings/:id: the stored finding and the raw event it was reported in. */
export const findingDetailSchema = z.object({
  finding: storedFindingSchema,
  event: z.record(z.string(), z.unknown()),
});
/** A finding with its raw event. */
export type FindingDetail = z.infer<typeof findingDetailSchema>;

/** One fingerprint group (GET /v1/findings/groups): repeats of the same finding, across hosts. */
export const findingGroupViewSchema = z.object({
  fingerprint: z.string(),
  severity: z.enum(SEVERITIES),
  title: z.string(),
  category: z.string(),
  agent: z.string(),
  count: z.number().int(),
  /** Findings of the group still `open`. */
  open: z.number().int(),
  hosts: z.number().int(),
  /** Up to 5 of its hosts. */
  sample_hosts: z.array(z.string()),
  first_seen: z.number(),
  last_seen: z.number(),
  last_finding_id: z.number().int(),
});
/** A fingerprint group. */
export type FindingGroupView = z.infer<typeof findingGroupViewSchema>;

/** An indicator (IP, domain, hash, path…) shared by several findings (GET /v1/findings/clusters). */
export const findingClusterViewSchema = z.object({
  indicator: z.string(),
  kind: z.string(),
  findings: z.number().int(),
  hosts: z.number().int(),
  /** Up to 5 of its hosts. */
  sample_hosts: z.array(z.string()),
  max_severity: z.enum(SEVERITIES),
  last_seen: z.number(),
});
/** An indicator cluster. */
export type FindingClusterView = z.infer<typeof findingClusterViewSchema>;

/** Query of GET /v1/findings/groups and /clusters: the usual finding filter plus `status` (groups only) and `limit`. */
export interface FindingGroupsQuery {
  severity?: string;
  agent?: string;
  category?: string;
  /** Only groups with at least one finding in this status (e.g. `open`). */
  status?: (typeof TRIAGE_STATUSES)[number];
  limit?: number;
}

/** An input an agent of the library declares. */
export const agentInputViewSchema = z.object({
  name: z.string(),
  /** The default's JSON type: `string`, `number`, `boolean` or `list`. */
  type: z.enum(['string', 'number', 'boolean', 'list']),
  default: z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]),
  description: z.string(),
});
/** An agent input. */
export type AgentInputView = z.infer<typeof agentInputViewSchema>;

/** GET /v1/agents: one agent definition the CP sends with dispatches (its `--agents` dirs and the built-ins). */
export const agentLibraryEntrySchema = z.object({
  name: z.string(),
  description: z.string(),
  provider: z.string(),
  mode: z.string(),
  timeout_ms: z.number(),
  inputs: z.array(agentInputViewSchema),
});
/** An agent of the CP's library. */
export type AgentLibraryEntry = z.infer<typeof agentLibraryEntrySchema>;
