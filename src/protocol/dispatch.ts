import { z } from 'zod';
import { LIMITS } from './limits.js';
import { RUN_ID_RE } from './ids.js';
import { boundedJson } from './json-value.js';

/** How a dispatch may reach its host (SPEC §3.3). */
export const DISPATCH_MODES = ['auto', 'tunnel', 'jobs'] as const;

/** A run id as it appears on the wire. */
export const runIdSchema = z.string().regex(RUN_ID_RE, 'expected a run id like r_01JD…');

/** An agent name: lower-case words joined by dashes or underscores. */
export const agentNameSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'expected an agent name (a-z, 0-9, . _ -, at most 64)');

/** A run's timeout in ms: a whole, positive number of at most 7 days (dispatches, run requests, a host's run_start). */
export const runTimeoutSchema = z.number().int().positive().max(7 * 86_400_000);

/** Inputs of a run: a JSON object, nested at most MAX_JSON_DEPTH levels. */
export const inputsSchema = boundedJson(z.record(z.string().max(128), z.unknown()));

/**
 * The CP's instruction to a daimon to start a run (SPEC §3.3). `definition` is the agent file's text when the CP has
 * it; the timeout travels in ms, and only when the operator set one: without it the host runs the agent under the
 * agent file's own timeout (the file it actually runs: its own copy wins over the CP's).
 */
export const dispatchEnvelopeSchema = z.object({
  run_id: runIdSchema,
  step_id: z.string().max(256).optional(),
  agent: agentNameSchema,
  definition: z.string().max(LIMITS.agentDefinitionBytes).optional(),
  prompt: z.string().max(64 * 1024).default(''),
  inputs: inputsSchema.default({}),
  timeout_ms: runTimeoutSchema.optional(),
  dispatch: z.enum(DISPATCH_MODES).default('auto'),
});
/** A validated dispatch envelope. */
export type DispatchEnvelope = z.infer<typeof dispatchEnvelopeSchema>;
