import { z } from 'zod';
import { agentNameSchema, inputsSchema, runTimeoutSchema, DISPATCH_MODES } from './dispatch.js';
import { LIMITS } from './limits.js';
import { storedFindingSchema, SEVERITIES, CATEGORIES } from './finding.js';
import { RUN_END_STATUSES } from './event.js';
import { hostSelectorSchema } from './host-selector.js';
import { hostRolloutSchema, rolloutHostViewSchema, rolloutViewSchema } from './rollout.js';
import { releasePublicKeySchema } from './release.js';
import { orchestrationRunViewSchema } from './orchestration-api.js';
import { triageViewSchema } from './findings-api.js';

/** Operator roles, least to most powerful. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
/** An operator role. */
export type Role = (typeof ROLES)[number];

/** Host liveness (SPEC §2.3). */
export const HOST_STATES = ['online', 'stale', 'offline'] as const;
/** A host's liveness. */
export type HostState = (typeof HOST_STATES)[number];

/** Hostnames: RFC 1123 labels, at most 253 characters. */
export const hostnameSchema = z
  .string()
  .max(253)
  .regex(/^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$/, 'expected a hostname (letters, digits, dashes, dots)');

/** POST /v1/register: a join token, a CSR and the host's facts (SPEC §2.2). */
export const registerRequestSchema = z.object({
  token: z.string().max(512),
  csr: z.string().max(16 * 1024),
  hostname: hostnameSchema,
  os: z.string().max(64).default(''),
  arch: z.string().max(64).default(''),
  version: z.string().max(64).default(''),
  labels: z.record(z.string().max(63), z.string().max(256)).default({}),
});
/** A registration request. */
export type RegisterRequest = z.infer<typeof registerRequestSchema>;

/** Registration answer: the signed client certificate and the host credential. */
export const registerResponseSchema = z.object({
  hostname: z.string(),
  certificate: z.string(),
  ca: z.string(),
  credential: z.string(),
  /** The release public keys the CP was started with (`cp serve --release-key`): what upgrades must be signed by, unless the host's policy names its own (issue 15). */
  release_keys: z.array(releasePublicKeySchema).max(16).optional(),
});
/** A registration answer. */
export type RegisterResponse = z.infer<typeof registerResponseSchema>;

/** A host as the operator API serves it. */
export const hostViewSchema = z.object({
  hostname: z.string(),
  state: z.enum(HOST_STATES),
  last_heartbeat: z.number().nullable(),
  heartbeat_seq: z.number().nullable(),
  version: z.string(),
  os: z.string(),
  arch: z.string(),
  /** `tunnel`, `jobs` (the bucket only) or `auto` (the tunnel, the bucket behind it). */
  transport: z.string(),
  /** The path in use now: `tunnel` while its tunnel is up, `jobs` while it is heard through the bucket; null when neither. */
  path: z.enum(['tunnel', 'jobs']).nullable().default(null),
  /** The host's bucket poll interval (ms) when it uses the bucket; null otherwise. */
  poll_ms: z.number().nullable().default(null),
  /** The interval its liveness is judged by (ms): the tunnel's heartbeat, or its bucket heartbeats'. */
  heartbeat_interval_ms: z.number().nullable().default(null),
  connected: z.boolean(),
  labels: z.record(z.string(), z.string()),
  running: z.number(),
  spool_depth: z.number(),
  registered_at: z.number(),
  /** When the host's current client certificate was issued and expires (ms); null from a CP that does not say. */
  cert_issued_at: z.number().nullable().default(null),
  cert_expires_at: z.number().nullable().default(null),
  /** The host's state in its latest rollout (issue 15); null when it was never in one or the CP does not say. */
  rollout: hostRolloutSchema.nullable().default(null),
});
/** A host row. */
export type HostView = z.infer<typeof hostViewSchema>;

/** Run status at the CP: created → dispatched → running → a terminal status. */
export const RUN_STATUSES = ['dispatched', 'running', ...RUN_END_STATUSES] as const;
/** A run status. */
export type RunStatus = (typeof RUN_STATUSES)[number];

/** What a run does, whatever hosts it goes to: the fields of POST /v1/runs besides the target. */
export const runSpecSchema = z.object({
  agent: agentNameSchema,
  definition: z.string().max(LIMITS.agentDefinitionBytes).optional(),
  prompt: z.string().max(64 * 1024).default(''),
  inputs: inputsSchema.default({}),
  /** Absent: the agent definition's own timeout when the CP has it, else 5 minutes. */
  timeout_ms: runTimeoutSchema.optional(),
  dispatch: z.enum(DISPATCH_MODES).default('auto'),
});
/** A run's specification. */
export type RunSpec = z.infer<typeof runSpecSchema>;

/** POST /v1/runs with `host`: dispatch an agent to one host. */
export const createRunRequestSchema = runSpecSchema.extend({ host: hostnameSchema });
/** A dispatch request. */
export type CreateRunRequest = z.infer<typeof createRunRequestSchema>;

/** Most hosts one fan-out request may list. */
export const FAN_OUT_MAX_HOSTS = 50_000;

/** `hosts` of a fan-out: 1..50,000 distinct hostnames. */
export const hostListSchema = z
  .array(hostnameSchema)
  .min(1)
  .max(FAN_OUT_MAX_HOSTS)
  .superRefine((hosts, ctx) => {
    const seen = new Set<string>();
    for (const h of hosts) {
      if (seen.has(h)) {
        ctx.addIssue({ code: 'custom', message: `${h} is listed twice` });
        return;
      }
      seen.add(h);
    }
  });

// Defined beside its parser so src/protocol/rollout.ts can use it without importing this file (which imports rollout.ts).
export { hostSelectorSchema };

const fanOutToHostsSchema = runSpecSchema.extend({ hosts: hostListSchema });
const fanOutBySelectorSchema = runSpecSchema.extend({ selector: hostSelectorSchema });
/** POST /v1/runs with `hosts` or `selector`: dispatch an agent to many hosts in one request. */
export const fanOutRequestSchema = z.union([fanOutToHostsSchema, fanOutBySelectorSchema]);
/** A fan-out dispatch request. */
export type FanOutRequest = z.infer<typeof fanOutRequestSchema>;

/**
 * Body of POST /v1/runs: a run spec with exactly one of `host` (one run), `hosts` or `selector` (a fan-out).
 * Parses to the single form or the fan-out form, told apart by `host`.
 */
export const postRunsRequestSchema = runSpecSchema
  .extend({ host: z.unknown().optional(), hosts: z.unknown().optional(), selector: z.unknown().optional() })
  .transform((body, ctx): CreateRunRequest | FanOutRequest => {
    const given = (['host', 'hosts', 'selector'] as const).filter((k) => body[k] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({ code: 'custom', message: `give exactly one of host, hosts, selector${given.length ? ` (got ${given.join(', ')})` : ''}` });
      return z.NEVER;
    }
    const schema = { host: createRunRequestSchema, hosts: fanOutToHostsSchema, selector: fanOutBySelectorSchema }[given[0] as 'host'];
    const parsed = schema.safeParse(body);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    return z.NEVER;
  });
/** A parsed POST /v1/runs body. */
export type PostRunsRequest = z.infer<typeof postRunsRequestSchema>;

/** A run record. */
export const runViewSchema = z.object({
  run_id: z.string(),
  host: z.string(),
  agent: z.string(),
  prompt: z.string(),
  status: z.enum(RUN_STATUSES),
  created_at: z.number(),
  started_at: z.number().nullable(),
  ended_at: z.number().nullable(),
  timeout_ms: z.number(),
  error: z.string().nullable(),
  findings: z.number(),
  events: z.number(),
  created_by: z.string(),
  /** The route the run was dispatched by: `tunnel`, `jobs` (the bucket: `dispatched` means queued there); null for ticks. */
  route: z.enum(['tunnel', 'jobs']).nullable().default(null),
});
/** A run record. */
export type RunView = z.infer<typeof runViewSchema>;

/** Answer of a fan-out: every run created (unreachable hosts get a `failed` run saying why), and the counts. */
export const fanOutResponseSchema = z.object({
  runs: z.array(runViewSchema),
  dispatched: z.number(),
  failed: z.number(),
});
/** A fan-out answer. */
export type FanOutResponse = z.infer<typeof fanOutResponseSchema>;

/** Longest lifetime a token can be given (`ttl_ms`): one year. */
export const MAX_TOKEN_TTL_MS = 365 * 86_400_000;

/**
 * POST /v1/tokens. Strict: an unknown field is refused (naming it) rather than dropped, so a caller never believes a
 * setting took effect when it did not. Operator tokens without `ttl_ms` never expire; join tokens default to 1 h.
 */
export const createTokenRequestSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('join'),
    ttl_ms: z.number().int().positive().max(MAX_TOKEN_TTL_MS).default(3_600_000),
    uses: z.number().int().positive().max(100_000).default(1),
    name: z.string().max(128).default(''),
  }),
  z.strictObject({
    kind: z.literal('operator'),
    role: z.enum(ROLES),
    ttl_ms: z.number().int().positive().max(MAX_TOKEN_TTL_MS).optional(),
    name: z.string().max(128).default(''),
  }),
]);
/** A token creation request. */
export type CreateTokenRequest = z.infer<typeof createTokenRequestSchema>;

/** A token as listed (never its secret). */
export const tokenViewSchema = z.object({
  id: z.string(),
  kind: z.enum(['join', 'operator']),
  role: z.enum(ROLES).nullable(),
  name: z.string(),
  created_at: z.number(),
  expires_at: z.number().nullable(),
  uses_left: z.number().nullable(),
  revoked_at: z.number().nullable(),
  created_by: z.string(),
});
/** A listed token. */
export type TokenView = z.infer<typeof tokenViewSchema>;

/** Filters shared by `findings`, `tail` and the stream. Severity means "this level and above". */
export const findingFilterSchema = z.object({
  severity: z.string().transform((s) => s.toUpperCase()).pipe(z.enum(SEVERITIES)).optional(),
  host: z.string().max(253).optional(),
  agent: z.string().max(64).optional(),
  category: z.string().transform((s) => s.toLowerCase()).pipe(z.enum(CATEGORIES)).optional(),
});
/** A finding filter. */
export type FindingFilter = z.infer<typeof findingFilterSchema>;

/** An audit log entry. */
export const auditEntrySchema = z.object({
  id: z.number(),
  ts: z.number(),
  actor: z.string(),
  role: z.string(),
  action: z.string(),
  target: z.string(),
  detail: z.record(z.string(), z.unknown()),
});
/** An audit entry. */
export type AuditEntry = z.infer<typeof auditEntrySchema>;

/** Messages on the operator live stream (`/v1/stream`). `cursor` is the resume point: reconnect with `?after=cursor`. */
export const streamMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('finding'), cursor: z.number(), finding: storedFindingSchema }),
  z.object({ type: z.literal('host'), cursor: z.number(), host: hostViewSchema }),
  z.object({ type: z.literal('run'), cursor: z.number(), run: runViewSchema }),
  z.object({ type: z.literal('orchestration_run'), cursor: z.number(), run: orchestrationRunViewSchema }),
  /** A finding (or its whole group) was triaged; stream kind `triage`. */
  z.object({ type: z.literal('triage'), cursor: z.number(), triage: triageViewSchema }),
  /** A rollout changed (stream kind `rollout`): its summary, and the host whose state moved when one did. */
  z.object({ type: z.literal('rollout'), cursor: z.number(), rollout: rolloutViewSchema, host: rolloutHostViewSchema.optional() }),
  z.object({ type: z.literal('ready'), cursor: z.number() }),
  z.object({ type: z.literal('error'), code: z.string(), message: z.string() }),
]);
/** A live stream message. */
export type StreamMessage = z.infer<typeof streamMessageSchema>;

/**
 * WebSocket close code of a `/v1/stream` socket whose token lost its standing (revoked, or expired while connected);
 * the close reason is the error code, after an `error` message saying the same. Reconnecting with that token is futile.
 */
export const STREAM_CLOSE_TOKEN_ENDED = 4401;

/** Summary counts by severity, category and agent. */
export const findingSummarySchema = z.object({
  total: z.number(),
  by_severity: z.record(z.string(), z.number()),
  by_category: z.record(z.string(), z.number()),
  by_agent: z.record(z.string(), z.number()),
  groups: z.number(),
  /** Findings per triage status (`open`, `acknowledged`, `resolved`, `false_positive`). */
  by_status: z.record(z.string(), z.number()).default({}),
  /** `open` findings per severity (every severity present, 0 when none). */
  open_by_severity: z.record(z.string(), z.number()).default({}),
  /** `open` findings per host, only with `?open_by_host=1` (the console's fleet column). */
  open_by_host: z.record(z.string(), z.number()).optional(),
});
/** A findings summary. */
export type FindingSummary = z.infer<typeof findingSummarySchema>;
