import { z } from 'zod';
import { inputsSchema } from './dispatch.js';
import { labelsSchema } from './labels.js';

/** A spec problem located in the YAML (the same shape the CLI prints as file:line:column: field: message). */
export const specErrorSchema = z.object({ source: z.string(), line: z.number(), column: z.number(), field: z.string(), message: z.string() });

/** A stored orchestration as the API lists it. */
export const orchestrationViewSchema = z.object({
  name: z.string(),
  description: z.string(),
  steps: z.array(z.object({ id: z.string(), agent: z.string() })),
  triggers: z.array(z.object({ type: z.enum(['cron', 'finding']), cron: z.string().optional(), filter: z.string().optional() })),
  updated_at: z.number(),
  updated_by: z.string(),
});
/** A stored orchestration. */
export type OrchestrationView = z.infer<typeof orchestrationViewSchema>;

/** `PUT /v1/orchestrations/:name`: the YAML text; its `name:` must match the path. */
export const applyOrchestrationSchema = z.object({ spec: z.string().min(1).max(256 * 1024) });

/** `POST /v1/orchestration-runs`: a stored orchestration by name, or a spec given inline (run without storing). */
export const startOrchestrationSchema = z
  .object({ name: z.string().max(128).optional(), spec: z.string().max(256 * 1024).optional(), inputs: inputsSchema.default({}) })
  .refine((b) => (b.name === undefined) !== (b.spec === undefined), 'give exactly one of name or spec');

/** `…/approve`, `…/reject`, `…/cancel` bodies. */
export const decisionSchema = z.object({ reason: z.string().max(1024).optional() });

/** One host of a step: its agent run and what came back. */
export const stepHostViewSchema = z.object({
  host: z.string(),
  status: z.enum(['pending', 'running', 'completed', 'failed']),
  run_id: z.string().nullable(),
  result: z.record(z.string(), z.unknown()).nullable(),
  findings: z.number(),
  error: z.string().nullable(),
});

/** One step of an orchestration run. `prompt` is the rendered prompt (set once the step is reached, so an approver sees exactly what runs). */
export const stepViewSchema = z.object({
  id: z.string(),
  agent: z.string(),
  status: z.enum(['pending', 'waiting_approval', 'running', 'completed', 'failed', 'skipped']),
  prompt: z.string().nullable(),
  inputs: z.record(z.string(), z.unknown()).nullable(),
  /** The hosts it was rendered to (a list, or a selector resolved at dispatch), set with `prompt`; optional for older CPs. */
  targets: z
    .discriminatedUnion('kind', [z.object({ kind: z.literal('hosts'), hosts: z.array(z.string()) }), z.object({ kind: z.literal('selector'), selector: z.string() })])
    .nullable()
    .optional(),
  hosts: z.array(stepHostViewSchema),
  result: z.record(z.string(), z.unknown()).nullable(),
  error: z.string().nullable(),
  started_at: z.number().nullable(),
  ended_at: z.number().nullable(),
  decided_by: z.string().nullable(),
});
/** A step of a run. */
export type StepView = z.infer<typeof stepViewSchema>;

/** An orchestration run (SPEC §6 run states), with its steps in order. */
export const orchestrationRunViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(['pending', 'running', 'approval_required', 'completed', 'failed', 'cancelled']),
  trigger: z.record(z.string(), z.unknown()),
  triggered_by: z.string(),
  created_at: z.number(),
  updated_at: z.number(),
  ended_at: z.number().nullable(),
  error: z.string().nullable(),
  steps: z.array(stepViewSchema),
});
/** An orchestration run. */
export type OrchestrationRunView = z.infer<typeof orchestrationRunViewSchema>;

/** `PUT /v1/hosts/:host/labels`: labels to set and to remove (operator). */
export const hostLabelsSchema = z.object({
  set: labelsSchema.default({}),
  remove: z.array(z.string().max(63)).max(256).default([]),
});
