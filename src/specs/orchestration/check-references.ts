import { cronCanMatch, parseCron } from '../cron.js';
import { expressionRefs, parseExpression, parseTemplate, templateRefs } from '../expr/index.js';
import type { SpecError, SpecPath } from '../yaml-spec.js';
import type { OrchestrationSpec, StepSpec } from './orchestration-types.js';

/** Where a field of the file is: line and column of its value (from parseYamlSpec). */
export type Locate = (path: SpecPath) => { line: number; column: number };

/** The template root every step may use besides earlier steps. */
const TRIGGER_ROOT = 'trigger';
/** The one root a finding trigger's filter may use. */
const FINDING_ROOT = 'finding';

/**
 * Checks what the schema cannot (SPEC §6): every template and `when` parses, every placeholder names `trigger` or an
 * earlier step, every cron trigger can fire and every finding filter parses and uses only `finding`. Each error is
 * located at the offending field. `when` and filters are expected without their `{{ }}` braces.
 */
export function checkReferences(spec: OrchestrationSpec, locate: Locate): SpecError[] {
  const errors: SpecError[] = [];
  const report = (path: SpecPath, message: string): void => {
    errors.push({ source: spec.source, ...locate(path), field: path.join('.'), message });
  };
  const stepIds = spec.steps.map((s) => s.id);

  spec.triggers.forEach((trigger, i) => {
    if (trigger.type === 'cron') {
      const parsed = parseCron(trigger.cron);
      if (!parsed.ok) report(['triggers', i, 'cron'], parsed.error);
      else if (!cronCanMatch(parsed.cron)) report(['triggers', i, 'cron'], 'never matches a date (e.g. 31 February)');
      return;
    }
    const parsed = parseExpression(trigger.filter);
    if (!parsed.ok) {
      report(['triggers', i, 'finding'], `invalid expression: ${errorText(parsed.error)}`);
      return;
    }
    const roots = new Set(expressionRefs(parsed.expr).map((ref) => ref[0]).filter((r): r is string => r !== undefined));
    for (const root of roots) {
      if (root !== FINDING_ROOT) report(['triggers', i, 'finding'], `a finding filter may only use finding.FIELD, not "${root}"`);
    }
  });

  spec.steps.forEach((step, index) => {
    const checkRoots = (path: SpecPath, refs: string[][]): void => {
      const roots = new Set(refs.map((ref) => ref[0]).filter((r): r is string => r !== undefined));
      for (const root of roots) {
        const problem = rootProblem(root, index, stepIds);
        if (problem) report(path, problem);
      }
    };
    for (const { path, text } of stepTemplates(step, index)) {
      const parsed = parseTemplate(text);
      if (parsed.ok) checkRoots(path, templateRefs(parsed.template));
      else report(path, `invalid template: ${errorText(parsed.error)}`);
    }
    if (step.when !== undefined) {
      const path: SpecPath = ['steps', index, 'when'];
      const parsed = parseExpression(step.when);
      if (parsed.ok) checkRoots(path, expressionRefs(parsed.expr));
      else report(path, `invalid expression: ${errorText(parsed.error)}`);
    }
  });
  return errors.sort((a, b) => a.line - b.line || a.column - b.column);
}

/** Why a placeholder root is not allowed in step `index`, or undefined when it is. */
function rootProblem(root: string, index: number, stepIds: readonly string[]): string | undefined {
  if (root === TRIGGER_ROOT) return undefined;
  const at = stepIds.indexOf(root);
  if (at >= 0 && at < index) return undefined;
  if (at >= index) return `forward reference to step "${root}" (steps may only use earlier steps and trigger)`;
  return `unknown step "${root}" (steps may only use earlier steps and trigger)`;
}

/** Every template of a step with the YAML path of the value it came from. */
function stepTemplates(step: StepSpec, index: number): { path: SpecPath; text: string }[] {
  const base: SpecPath = ['steps', index];
  const out: { path: SpecPath; text: string }[] = [];
  switch (step.target.kind) {
    case 'node':
      out.push({ path: [...base, 'node'], text: step.target.node });
      break;
    case 'nodes':
      step.target.nodes.forEach((text, j) => out.push({ path: [...base, 'nodes', j], text }));
      break;
    case 'selector':
      out.push({ path: [...base, 'nodes_selector'], text: step.target.selector });
      break;
  }
  out.push({ path: [...base, 'prompt'], text: step.prompt });
  for (const [name, text] of Object.entries(step.inputs)) out.push({ path: [...base, 'inputs', name], text });
  return out;
}

/** The parser's message, whether it reports a string or an error object. */
function errorText(error: unknown): string {
  if (typeof error === 'string') return error;
  if (typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string') return error.message;
  return String(error);
}
