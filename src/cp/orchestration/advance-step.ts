import { evaluateExpression, parseExpression, parseTemplate, renderTemplate, truthy } from '../../specs/expr/index.js';
import type { StepSpec } from '../../specs/orchestration/orchestration-types.js';
import { matchesSelector, parseHostSelector } from '../../protocol/host-selector.js';
import { nameSome } from '../fan-out.js';
import type { Rendered, RenderedTargets, StepHostRecord } from './store.js';
import { mergeResults } from './step-scope.js';

/** A step outcome or why it could not be had; `error` names the expression or template that failed. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: string };

/** Evaluates a step's `when`: true when the step runs (no `when` runs it); an error names the expression. */
export function evaluateWhen(step: StepSpec, scope: Record<string, unknown>): Outcome<boolean> {
  if (step.when === undefined) return { ok: true, value: true };
  const parsed = parseExpression(step.when);
  if (!parsed.ok) return { ok: false, error: `when "${step.when}": ${parsed.error}` };
  try {
    return { ok: true, value: truthy(evaluateExpression(parsed.expr, scope, step.when)) };
  } catch (err) {
    return { ok: false, error: `when: ${(err as Error).message}` };
  }
}

/** Renders one template field; the error names the field and the failing placeholder. */
function render(field: string, source: string, scope: Record<string, unknown>): string {
  const parsed = parseTemplate(source);
  if (!parsed.ok) throw new Error(`${field}: ${parsed.error}`);
  try {
    return renderTemplate(parsed.template, scope);
  } catch (err) {
    throw new Error(`${field}: ${(err as Error).message}`);
  }
}

/** Renders a step's prompt, inputs and targets against the scope: exactly what will run. */
export function renderStep(step: StepSpec, scope: Record<string, unknown>): Outcome<Rendered> {
  try {
    const prompt = render('prompt', step.prompt, scope);
    const inputs = Object.fromEntries(Object.entries(step.inputs).map(([k, v]) => [k, render(`inputs.${k}`, v, scope)]));
    let targets: RenderedTargets;
    if (step.target.kind === 'node') targets = { kind: 'hosts', hosts: [render('node', step.target.node, scope).trim()] };
    else if (step.target.kind === 'nodes') targets = { kind: 'hosts', hosts: step.target.nodes.map((n, i) => render(`nodes.${i}`, n, scope).trim()) };
    else targets = { kind: 'selector', selector: render('nodes_selector', step.target.selector, scope).trim() };
    return { ok: true, value: { prompt, inputs, targets } };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** A live host as target resolution sees it: its name and effective labels (operator overrides applied). */
export interface TargetHost {
  hostname: string;
  labels: Readonly<Record<string, string>>;
}

/**
 * The hosts a rendered step targets, in target order without repeats: `known` are registered, `unknown` are not (each
 * fails on its own). A selector that does not parse or matches no host fails the whole step.
 */
export function resolveTargets(targets: RenderedTargets, live: readonly TargetHost[]): Outcome<{ known: string[]; unknown: string[] }> {
  if (targets.kind === 'selector') {
    const parsed = parseHostSelector(targets.selector);
    if (!parsed.ok) return { ok: false, error: `nodes_selector "${targets.selector}": ${parsed.error}` };
    const known = live.filter((h) => matchesSelector(parsed.selector, h.labels)).map((h) => h.hostname);
    if (known.length === 0) return { ok: false, error: `no host matches ${targets.selector}` };
    return { ok: true, value: { known, unknown: [] } };
  }
  const names = new Set(live.map((h) => h.hostname));
  const wanted = [...new Set(targets.hosts)];
  if (wanted.length === 0 || wanted.every((h) => h === '')) return { ok: false, error: 'the step targets no host (node rendered empty)' };
  return { ok: true, value: { known: wanted.filter((h) => names.has(h)), unknown: wanted.filter((h) => !names.has(h)) } };
}

/** How a step ended once every host has: its status, merged result and (when failed) an error naming the failed hosts. */
export function stepOutcome(hosts: readonly StepHostRecord[]): { status: 'completed' | 'failed'; result: Record<string, unknown>; error: string | null } | undefined {
  if (hosts.some((h) => h.status === 'pending' || h.status === 'running')) return undefined;
  const failed = hosts.filter((h) => h.status === 'failed');
  const result = mergeResults(hosts);
  if (failed.length === 0) return { status: 'completed', result, error: null };
  const detail = failed.length === 1 ? `${(failed[0] as StepHostRecord).host}: ${(failed[0] as StepHostRecord).error ?? 'failed'}` : nameSome(failed.map((h) => `${h.host} (${h.error ?? 'failed'})`));
  return { status: 'failed', result, error: `failed on ${failed.length} of ${hosts.length} host${hosts.length === 1 ? '' : 's'}: ${detail}` };
}
