import type { DISPATCH_MODES } from '../../protocol/dispatch.js';

/** How a step reaches its hosts (SPEC §3.3). */
export type DispatchMode = (typeof DISPATCH_MODES)[number];

/** A declared input of an orchestration: `{{trigger.NAME}}` in templates. */
export interface OrchestrationInput {
  type: 'string' | 'int' | 'number' | 'bool' | 'list';
  required: boolean;
  default?: string | number | boolean | string[];
  description: string;
}

/** What may start a run besides a manual `okesu orchestrate run` (always allowed). */
export type TriggerSpec =
  /** Five-field cron, host-local time of the CP. */
  | { type: 'cron'; cron: string }
  /** An expression over each new finding (`finding.severity in ['HIGH','CRITICAL'] && finding.agent == 'edr'`); the finding's fields are bound under `trigger`. */
  | { type: 'finding'; filter: string };

/** Which hosts a step runs on; every string is a template rendered when the step starts. */
export type StepTarget =
  | { kind: 'node'; node: string }
  | { kind: 'nodes'; nodes: string[] }
  /** `label:k=v` or `all` (src/protocol/host-selector.ts), after rendering. */
  | { kind: 'selector'; selector: string };

/** One step of an orchestration (SPEC §6), fully defaulted. Templates are kept as source text, validated at parse time. */
export interface StepSpec {
  id: string;
  agent: string;
  target: StepTarget;
  /** Template of the run's prompt. */
  prompt: string;
  /** Templates of the run's inputs. */
  inputs: Record<string, string>;
  /** An expression (the SPEC's `{{ … }}` braces removed); the step is skipped when it is false. */
  when?: string;
  /** The run stops in `approval_required` before this step, with its prompt rendered and stored. */
  approval: boolean;
  continueOnError: boolean;
  timeoutMs: number;
  dispatch: DispatchMode;
}

/** A parsed orchestration (SPEC §6). */
export interface OrchestrationSpec {
  name: string;
  description: string;
  inputs: Record<string, OrchestrationInput>;
  defaults: { timeoutMs: number; dispatch: DispatchMode };
  triggers: TriggerSpec[];
  steps: StepSpec[];
  /** File path, or `<api>`. */
  source: string;
}

/** Run states (SPEC §6). */
export const ORCHESTRATION_RUN_STATES = ['pending', 'running', 'approval_required', 'completed', 'failed', 'cancelled'] as const;
/** A run state. */
export type OrchestrationRunState = (typeof ORCHESTRATION_RUN_STATES)[number];

/** Step states (SPEC §6). */
export const STEP_STATES = ['pending', 'waiting_approval', 'running', 'completed', 'failed', 'skipped'] as const;
/** A step state. */
export type StepState = (typeof STEP_STATES)[number];

/** The state of one host of a step. */
export const STEP_HOST_STATES = ['pending', 'running', 'completed', 'failed'] as const;
/** A step host state. */
export type StepHostState = (typeof STEP_HOST_STATES)[number];
