import { z } from 'zod';
import { DISPATCH_MODES, agentNameSchema } from '../../protocol/dispatch.js';
import { durationSchema, formatDuration } from '../../protocol/duration.js';
import type { SpecPath } from '../yaml-spec.js';
import { coerceInput } from './resolve-trigger.js';
import type { DispatchMode, OrchestrationInput, OrchestrationSpec, StepSpec, StepTarget, TriggerSpec } from './orchestration-types.js';

/** The types a declared input may have. */
export const INPUT_TYPES = ['string', 'int', 'number', 'bool', 'list'] as const;
/** Most steps in one orchestration. */
export const MAX_STEPS = 100;
/** Most hosts one `nodes:` list may name. */
export const MAX_NODES = 1000;
/** Step ids that would shadow a template root. */
export const RESERVED_STEP_IDS: readonly string[] = ['trigger', 'finding'];

const DAY_MS = 86_400_000;
/** Longest step timeout: what a dispatch envelope carries at most. */
const MAX_TIMEOUT_MS = 7 * DAY_MS;
const DEFAULT_TIMEOUT_MS = 300_000;

const oneOf = (values: readonly string[]) => `expected one of ${values.join(', ')}`;
/** A type error message that still says "is required" when the field is missing. */
const expected = (what: string) => (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : what);
const template = (max: number) => z.string({ error: 'expected a string (a template)' }).max(max, `must be at most ${max} characters`);
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const inputName = z.string().regex(NAME_RE, 'expected a name of letters, digits and _ (at most 64, not starting with a digit)');

const timeoutSchema = z
  .string({ error: (iss) => `expected a duration like 30s, 5m, 1h or 7d, got ${JSON.stringify(iss.input)}` })
  .pipe(durationSchema)
  .refine((ms) => ms >= 1000, 'must be at least 1s')
  .refine((ms) => ms <= MAX_TIMEOUT_MS, `must be at most ${formatDuration(MAX_TIMEOUT_MS)}`);
const dispatchSchema = z.enum(DISPATCH_MODES, { error: oneOf(DISPATCH_MODES) });

const inputSchema = z
  .strictObject({
    type: z.enum(INPUT_TYPES, { error: oneOf(INPUT_TYPES) }).default('string'),
    required: z.boolean().default(false),
    default: z.union([z.string().max(16 * 1024), z.number(), z.boolean(), z.array(z.string().max(4096)).max(1024)], {
      error: 'expected a string, a number, true/false or a list of strings',
    }).optional(),
    description: z.string().max(4096).default(''),
  })
  .transform((input, ctx): OrchestrationInput => {
    const out: OrchestrationInput = { type: input.type, required: input.required, description: input.description };
    if (input.default === undefined) return out;
    if (input.required) ctx.addIssue({ code: 'custom', path: ['required'], message: 'an input with a default is never missing; drop required or the default' });
    const coerced = coerceInput(input.type, input.default);
    if (coerced.ok) out.default = coerced.value;
    else ctx.addIssue({ code: 'custom', path: ['default'], message: `does not fit type ${input.type}: ${coerced.error}` });
    return out;
  });

const defaultsSchema = z.strictObject({
  timeout: timeoutSchema.default(DEFAULT_TIMEOUT_MS),
  dispatch: dispatchSchema.default('auto'),
});

const triggerSchema = z
  .strictObject({ cron: z.string().max(1024).optional(), finding: z.string().max(16 * 1024).optional() }, { error: 'expected { cron: "…" } or { finding: "<expression>" }' })
  .transform((t, ctx): TriggerSpec => {
    if (t.cron !== undefined && t.finding !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['finding'], message: 'a trigger is either cron or finding; write each as its own list item' });
    }
    if (t.cron !== undefined) return { type: 'cron', cron: t.cron.trim() };
    if (t.finding !== undefined) return { type: 'finding', filter: t.finding };
    ctx.addIssue({ code: 'custom', message: 'expected { cron: "…" } or { finding: "<expression>" }' });
    return z.NEVER;
  });

const TARGET_FIELDS = ['node', 'nodes', 'nodes_selector'] as const;

/** A cross-field check may run on a partly valid mapping (to report with the other errors), never on a non-mapping. */
const isObjectPayload = (payload: { value: unknown }): boolean => typeof payload.value === 'object' && payload.value !== null && !Array.isArray(payload.value);

/** A step as the schema outputs it: timeout and dispatch are filled from `defaults` afterwards. */
type ParsedStep = Omit<StepSpec, 'timeoutMs' | 'dispatch'> & { timeoutMs?: number; dispatch?: DispatchMode };

const stepSchema = z
  .strictObject({
    id: z.string({ error: expected('expected a step id') }).regex(/^[a-z][a-z0-9_-]{0,63}$/, 'expected a step id (a-z first, then a-z, 0-9, _ -, at most 64)'),
    agent: agentNameSchema,
    node: template(1024).refine((s) => s.trim() !== '', 'must not be empty').optional(),
    nodes: z.array(template(1024).refine((s) => s.trim() !== '', 'must not be empty'), { error: 'expected a list of host names' })
      .min(1, 'must name at least one host')
      .max(MAX_NODES, `must name at most ${MAX_NODES} hosts`)
      .optional(),
    nodes_selector: template(1024).refine((s) => s.trim() !== '', 'must not be empty').optional(),
    prompt: template(64 * 1024).default(''),
    inputs: z
      .record(inputName, z.union([z.string().max(16 * 1024), z.number(), z.boolean()], { error: 'expected a string, a number or true/false' }).transform(String))
      .default({}),
    when: z.string({ error: 'expected an expression such as "{{scan.result.verdict == \'c2\'}}"' }).trim().min(1, 'must not be empty').max(16 * 1024).optional(),
    approval: z
      .union([z.enum(['required', 'none']), z.boolean()], { error: 'expected required or none (or true/false)' })
      .transform((a) => a === true || a === 'required')
      .default(false),
    continue_on_error: z.boolean().default(false),
    timeout: timeoutSchema.optional(),
    dispatch: dispatchSchema.optional(),
  })
  // Runs even when another field of the step is wrong, so every error shows at once.
  .superRefine((s, ctx) => {
    const given = TARGET_FIELDS.filter((f) => s[f] !== undefined);
    if (given.length === 0) ctx.addIssue({ code: 'custom', message: 'expected one of node, nodes or nodes_selector (which hosts the step runs on)' });
    for (const extra of given.slice(1)) {
      ctx.addIssue({ code: 'custom', path: [extra], message: `${given[0]} and ${extra} cannot be used together; give one of node, nodes or nodes_selector` });
    }
  }, { when: isObjectPayload })
  .transform((s): ParsedStep => {
    const target: StepTarget =
      s.node !== undefined ? { kind: 'node', node: s.node } : s.nodes !== undefined ? { kind: 'nodes', nodes: s.nodes } : { kind: 'selector', selector: s.nodes_selector ?? '' };
    const step: ParsedStep = { id: s.id, agent: s.agent, target, prompt: s.prompt, inputs: s.inputs, approval: s.approval, continueOnError: s.continue_on_error };
    if (s.when !== undefined) step.when = s.when;
    if (s.timeout !== undefined) step.timeoutMs = s.timeout;
    if (s.dispatch !== undefined) step.dispatch = s.dispatch;
    return step;
  });

const fieldsSchema = z.strictObject({
  name: z.string({ error: expected('expected an orchestration name') }).regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'expected a name (a-z, 0-9, . _ -, at most 64)'),
  description: z.string().max(4096).default(''),
  inputs: z.record(inputName, inputSchema).default({}),
  defaults: defaultsSchema.default({ timeout: DEFAULT_TIMEOUT_MS, dispatch: 'auto' }),
  triggers: z.array(triggerSchema).max(64, 'at most 64 triggers').default([]),
  steps: z.array(stepSchema, { error: expected('expected a list of steps') }).min(1, 'must have at least one step').max(MAX_STEPS, `must have at most ${MAX_STEPS} steps`),
});

/** The top-level fields of an orchestration file, for "did you mean" hints. */
export const ORCHESTRATION_FIELDS: readonly string[] = Object.keys(fieldsSchema.shape);
/** The fields of one step. */
export const STEP_FIELDS: readonly string[] = Object.keys(stepSchema.in.shape);

/**
 * Validates the parsed YAML of an orchestration (SPEC §6) into a fully defaulted spec (without `source`). Shapes only:
 * templates, expressions, cron and step references are checked afterwards (check-references.ts), where they can be located.
 */
export const orchestrationSchema = fieldsSchema
  .superRefine((f, ctx) => {
    // Runs even when other fields are wrong; a step here may be only partly valid, so read its id with care.
    if (!Array.isArray(f.steps)) return;
    const seen = new Map<string, number>();
    f.steps.forEach((step: unknown, i) => {
      const id = typeof step === 'object' && step !== null && 'id' in step && typeof step.id === 'string' ? step.id : undefined;
      if (id === undefined) return;
      const first = seen.get(id);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['steps', i, 'id'], message: `duplicate step id "${id}" (also steps.${first}.id)` });
      else seen.set(id, i);
      if (RESERVED_STEP_IDS.includes(id)) ctx.addIssue({ code: 'custom', path: ['steps', i, 'id'], message: `"${id}" is reserved for the run's ${id}; choose another id` });
    });
  }, { when: isObjectPayload })
  .transform((f): Omit<OrchestrationSpec, 'source'> => {
    const defaults = { timeoutMs: f.defaults.timeout, dispatch: f.defaults.dispatch };
    return {
      name: f.name,
      description: f.description,
      inputs: f.inputs,
      defaults,
      triggers: f.triggers,
      steps: f.steps.map((s) => ({ ...s, timeoutMs: s.timeoutMs ?? defaults.timeoutMs, dispatch: s.dispatch ?? defaults.dispatch })),
    };
  });

/** The keys allowed in the mapping at `path` of an orchestration file, for "did you mean" hints. */
export function orchestrationKnownKeys(path: SpecPath): readonly string[] {
  // Positions in lists and the user-chosen names under `inputs` are wildcards.
  const shape = path.map((p, i) => (typeof p === 'number' || (i === 1 && path[0] === 'inputs') ? '#' : p)).join('.');
  switch (shape) {
    case '': return ORCHESTRATION_FIELDS;
    case 'inputs.#': return ['type', 'required', 'default', 'description'];
    case 'defaults': return ['timeout', 'dispatch'];
    case 'triggers.#': return ['cron', 'finding'];
    case 'steps.#': return STEP_FIELDS;
    default: return [];
  }
}
