import { z } from 'zod';
import { durationSchema, formatDuration } from '../protocol/duration.js';
import { agentNameSchema } from '../protocol/dispatch.js';
import { cronCanMatch, parseCron } from './cron.js';
import { subjectKind } from './gate.js';
import { patternError } from './glob-match.js';
import { ruleSchema } from './rule-spec.js';
import type { RuleSpec } from './rule-spec.js';

/** Providers an agent can be driven by (SPEC §4.1). */
export const PROVIDER_NAMES = ['claude', 'codex', 'custom'] as const;
/** A provider name. */
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/** How hard the LLM loop may think. */
export const EFFORTS = ['low', 'medium', 'high'] as const;
/** An effort level. */
export type Effort = (typeof EFFORTS)[number];

/** `oneshot` runs when dispatched; `daemon` is ticked by the daimon on a schedule. */
export const AGENT_MODES = ['oneshot', 'daemon'] as const;
/** An agent mode. */
export type AgentMode = (typeof AGENT_MODES)[number];

/** What a scheduled tick does when the previous one is still running. */
export const OVERLAP_POLICIES = ['skip', 'queue'] as const;
/** An overlap policy. */
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

/** One host-side gate on a tool call: `pattern` narrows it to matching arguments. */
export interface RbacRule {
  tool: string;
  pattern?: string;
  reason?: string;
}

/** A shell command run before the model on every run; its output feeds the prompt. */
export interface CollectorSpec {
  name: string;
  command: string;
  timeoutMs: number;
  optional: boolean;
  /** Copy the output (capped) into the `collector_result` event, e.g. for a forensic collection. */
  emitOutput: boolean;
}

/** A value an input can take: what `--input k=v` and dispatch inputs override. */
export type InputValue = string | number | boolean | string[];

/** An input the agent declares, with its default (watched paths, endpoints, thresholds…). */
export interface InputSpec {
  default: InputValue;
  description: string;
}

/** A parsed, fully defaulted agent (SPEC §4). Durations are in milliseconds. */
export interface AgentSpec {
  name: string;
  version: string;
  description: string;
  provider: ProviderName;
  model?: string;
  effort: Effort;
  maxTurns: number;
  timeoutMs: number;
  mode: AgentMode;
  intervalMs?: number;
  cron?: string;
  overlap: OverlapPolicy;
  tools: string[];
  rbac: { allow: RbacRule[]; deny: RbacRule[] };
  collectors: CollectorSpec[];
  /** Inputs the agent declares, by name, with defaults; a run's inputs override them. */
  inputs: Record<string, InputSpec>;
  /** Deterministic checks over collector output (no LLM). */
  rules: RuleSpec[];
  dedupeTtlMs: number;
  /** For `provider: custom`: an argv list (run directly) or a string (run under `sh -c`). */
  command?: string | string[];
  /** Variables of the daimon's environment this agent's processes need; they pass only if the host policy's `pass_env` lists them too. */
  env: string[];
  /** The markdown body: the system prompt. */
  body: string;
  /** Where the agent came from: a file path, or `<dispatch>`. */
  source: string;
}

/** Infers the provider from the fields present: explicit `provider`, else `command` → custom, else the model family. */
export function inferProvider(fields: { provider?: ProviderName; model?: string; command?: unknown }): ProviderName | undefined {
  if (fields.provider) return fields.provider;
  if (fields.command !== undefined) return 'custom';
  const model = fields.model?.trim().toLowerCase();
  if (!model) return undefined;
  if (/^(claude|opus|sonnet|haiku)(\b|-|$)/.test(model)) return 'claude';
  if (/^(gpt-|codex|o[134](-|$))/.test(model)) return 'codex';
  return undefined;
}

const DAY_MS = 86_400_000;

const oneOf = (values: readonly string[]) => `expected one of ${values.join(', ')}`;

const durationText = z
  .string({ error: (iss) => `expected a duration like 30s, 5m, 1h or 7d, got ${JSON.stringify(iss.input)}` })
  .pipe(durationSchema);

/** A duration field within [min, max] milliseconds. */
function duration(min: number, max: number) {
  return durationText
    .refine((ms) => ms >= min, min > 0 ? `must be at least ${formatDuration(min)}` : 'must not be negative')
    .refine((ms) => ms <= max, `must be at most ${formatDuration(max)}`);
}

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);


const rbacRuleSchema = z.strictObject({
  tool: text(64),
  pattern: z.string().max(1024).optional(),
  reason: z.string().max(1024).optional(),
});

const collectorSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/i, 'expected a collector name (letters, digits, _ -, at most 64)'),
  command: text(16 * 1024),
  timeout: duration(100, DAY_MS).default(30_000),
  optional: z.boolean().default(false),
  emit_output: z.boolean().default(false),
});

const inputValueSchema = z.union([z.string().max(16 * 1024), z.number(), z.boolean(), z.array(z.string().max(4096)).max(1024)], {
  error: 'expected a string, a number, true/false or a list of strings',
});

/** `name: default` or `name: { default, description }`. */
const inputSchema = z.union(
  [
    inputValueSchema.transform((v): InputSpec => ({ default: v, description: '' })),
    z.strictObject({ default: inputValueSchema, description: z.string().max(4096).default('') }),
  ],
  { error: 'expected a default value (a string, a number, true/false or a list of strings) or { default, description }' },
);

const commandSchema = z.union(
  [text(16 * 1024), z.array(z.string().max(16 * 1024)).min(1, 'must not be empty').max(256)],
  { error: 'expected a string (run under sh -c) or a list of arguments (run directly)' },
);

/** An environment variable name an agent may ask for; OKESU_* are the daimon's own to set. */
const envNameSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'expected an environment variable name (letters, digits, _)')
  .refine((n) => !n.startsWith('OKESU_'), 'the daimon sets OKESU_* variables itself; they are never passed from its environment');

/** The frontmatter fields (SPEC §4) as written in the file; unknown fields are errors. */
const frontmatterFieldsSchema = z.strictObject({
  name: agentNameSchema,
  version: z.preprocess((v) => (typeof v === 'number' ? String(v) : v), text(64)).default('0.0.0'),
  description: z.string().max(4096).default(''),
  provider: z.enum(PROVIDER_NAMES, { error: oneOf(PROVIDER_NAMES) }).optional(),
  model: text(256).optional(),
  effort: z.enum(EFFORTS, { error: oneOf(EFFORTS) }).default('medium'),
  maxTurns: z.number().int('must be a whole number').min(1).max(1000).default(20),
  timeout: duration(1000, 7 * DAY_MS).default(300_000),
  mode: z.enum(AGENT_MODES, { error: oneOf(AGENT_MODES) }).default('oneshot'),
  interval: duration(1000, 366 * DAY_MS).optional(),
  cron: z
    .string()
    .trim()
    .superRefine((v, ctx) => {
      const r = parseCron(v);
      if (!r.ok) ctx.addIssue({ code: 'custom', message: r.error });
      else if (!cronCanMatch(r.cron)) ctx.addIssue({ code: 'custom', message: 'never matches a date (e.g. 31 February)' });
    })
    .optional(),
  overlap: z.enum(OVERLAP_POLICIES, { error: oneOf(OVERLAP_POLICIES) }).default('skip'),
  tools: z.array(z.string().regex(/^[A-Za-z][\w.-]{0,63}$/, 'expected a tool name such as bash or read_file')).max(256).default([]),
  rbac: z
    .strictObject({ allow: z.array(rbacRuleSchema).max(1024).default([]), deny: z.array(rbacRuleSchema).max(1024).default([]) })
    .default({ allow: [], deny: [] }),
  collectors: z.array(collectorSchema).max(256).default([]),
  inputs: z.record(z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'expected an input name (a-z, 0-9, _)'), inputSchema).default({}),
  rules: z.array(ruleSchema).max(1024).default([]),
  dedupeTtl: duration(0, 366 * DAY_MS).default(DAY_MS),
  command: commandSchema.optional(),
  env: z.array(envNameSchema).max(64).default([]),
});

/** Every field name the frontmatter accepts, for "did you mean" hints. */
export const FRONTMATTER_FIELDS: readonly string[] = Object.keys(frontmatterFieldsSchema.shape);

/** Validates agent frontmatter (the parsed YAML mapping) into a defaulted `AgentSpec` without `body` and `source`. */
export const agentFrontmatterSchema = frontmatterFieldsSchema
  .superRefine((f, ctx) => {
    const provider = inferProvider(f);
    if (!provider) {
      ctx.addIssue({
        code: 'custom',
        path: f.model ? ['model'] : ['provider'],
        message: f.model
          ? `cannot tell the provider from model "${f.model}"; set provider: ${PROVIDER_NAMES.join(', ')}`
          : `is required when there is no model or command (${PROVIDER_NAMES.join(', ')})`,
      });
    }
    if (provider === 'custom' && f.command === undefined) {
      ctx.addIssue({ code: 'custom', path: ['command'], message: 'is required with provider: custom' });
    }
    if (provider && provider !== 'custom' && f.command !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['command'], message: `is only used with provider: custom, not ${provider}` });
    }
    if (f.interval !== undefined && f.cron !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['cron'], message: 'set either interval or cron, not both' });
    }
    if (f.mode === 'daemon' && f.interval === undefined && f.cron === undefined) {
      ctx.addIssue({ code: 'custom', path: ['mode'], message: 'mode: daemon needs a schedule: set interval or cron' });
    }
    if (f.mode === 'oneshot') {
      for (const key of ['interval', 'cron'] as const) {
        if (f[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'is only used with mode: daemon' });
      }
    }
    for (const side of ['allow', 'deny'] as const) {
      f.rbac[side].forEach((rule, i) => {
        if (rule.pattern === undefined) return;
        const problem = patternError(rule.pattern, subjectKind(rule.tool));
        if (problem) ctx.addIssue({ code: 'custom', path: ['rbac', side, i, 'pattern'], message: problem });
      });
    }
    const seen = new Set<string>();
    f.collectors.forEach((c, i) => {
      if (seen.has(c.name)) ctx.addIssue({ code: 'custom', path: ['collectors', i, 'name'], message: `duplicate collector name "${c.name}"` });
      seen.add(c.name);
    });
    const ruleNames = new Set<string>();
    f.rules.forEach((r, i) => {
      if (ruleNames.has(r.name)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'name'], message: `duplicate rule name "${r.name}"` });
      ruleNames.add(r.name);
      if (!seen.has(r.collector)) {
        ctx.addIssue({ code: 'custom', path: ['rules', i, 'collector'], message: `no collector named "${r.collector}" (have: ${[...seen].join(', ') || 'none'})` });
      }
    });
  })
  .transform((f): Omit<AgentSpec, 'body' | 'source'> => ({
    name: f.name,
    version: f.version,
    description: f.description,
    provider: inferProvider(f) ?? 'custom', // unreachable fallback: the refinement above rejects an unknown provider
    ...(f.model !== undefined && { model: f.model }),
    effort: f.effort,
    maxTurns: f.maxTurns,
    timeoutMs: f.timeout,
    mode: f.mode,
    ...(f.interval !== undefined && { intervalMs: f.interval }),
    ...(f.cron !== undefined && { cron: f.cron }),
    overlap: f.overlap,
    tools: [...new Set(f.tools)],
    rbac: f.rbac,
    collectors: f.collectors.map((c) => ({ name: c.name, command: c.command, timeoutMs: c.timeout, optional: c.optional, emitOutput: c.emit_output })),
    inputs: f.inputs,
    rules: f.rules,
    dedupeTtlMs: f.dedupeTtl,
    ...(f.command !== undefined && { command: f.command }),
    env: [...new Set(f.env)],
  }));
