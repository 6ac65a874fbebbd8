import { parseHostSelector } from '../../../src/protocol/host-selector.js';
import type { AgentInputView } from '../../../src/protocol/findings-api.js';
import { parseBooleanText, parseDecimal } from '../../../src/specs/input-values.js';
import type { CreateRunInput, CreateRunsInput, StartOrchestrationInput } from '../../../src/transport/operator-client.js';
import { choiceLabel, type Choice } from './dispatch-rows.js';

/** A form the operator can run: the request, and what the confirm line says (`what` on `targets`). */
export type DispatchPlan =
  | { ok: true; kind: 'agent'; request: CreateRunInput | CreateRunsInput; what: string; targets: string; confirm: boolean }
  | { ok: true; kind: 'orchestration'; request: StartOrchestrationInput; what: string; targets: string; confirm: boolean }
  | { ok: false; error: string };

/** What the targets field names: hosts, or a selector (`all`, `label:k=v`). */
export type Targets = { kind: 'hosts'; hosts: string[] } | { kind: 'selector'; selector: string };

/** Parses the targets field: `all` / `label:k=v[,k=v]`, else hostnames separated by commas or spaces. */
export function parseTargets(text: string): { ok: true; targets: Targets } | { ok: false; error: string } {
  const t = text.trim();
  if (t === '') return { ok: false, error: 'no targets: give hosts (a,b), label:k=v or all' };
  if (t === 'all' || t.startsWith('label:')) {
    const parsed = parseHostSelector(t);
    return parsed.ok ? { ok: true, targets: { kind: 'selector', selector: t } } : { ok: false, error: `targets: ${parsed.error}` };
  }
  const hosts = [...new Set(t.split(/[\s,]+/).filter((h) => h !== ''))];
  return { ok: true, targets: { kind: 'hosts', hosts } };
}

/** A declared input's text as its type: numbers and booleans parsed, lists split on commas. Empty = not given. */
export function coerceInput(input: AgentInputView, text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  switch (input.type) {
    case 'string':
      return { ok: true, value: text };
    case 'number': {
      const n = parseDecimal(text);
      return n === undefined ? { ok: false, error: `${input.name}: expected a number, got "${text}"` } : { ok: true, value: n };
    }
    case 'boolean': {
      const b = parseBooleanText(text);
      return b === undefined ? { ok: false, error: `${input.name}: expected yes or no, got "${text}"` } : { ok: true, value: b };
    }
    case 'list':
      return { ok: true, value: text.split(',').map((s) => s.trim()).filter((s) => s !== '') };
  }
}

/** Free `k=v` words (as `okesu orchestrate run --input`: the value is JSON when it parses, else the text). */
export function parseFreeInputs(text: string): { ok: true; inputs: Record<string, unknown> } | { ok: false; error: string } {
  const inputs: Record<string, unknown> = {};
  for (const word of text.trim().split(/\s+/)) {
    if (word === '') continue;
    const eq = word.indexOf('=');
    if (eq <= 0) return { ok: false, error: `inputs: "${word}" is not k=v` };
    const raw = word.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw) as unknown;
    } catch {
      // Not JSON: the text itself.
    }
    inputs[word.slice(0, eq)] = value;
  }
  return { ok: true, inputs };
}

/** How the confirm line names targets: the host, `3 hosts`, `all hosts`, `label:zone=a`. */
export function describeTargets(t: Targets): string {
  if (t.kind === 'selector') return t.selector === 'all' ? 'all hosts' : t.selector;
  return t.hosts.length === 1 ? t.hosts[0]! : `${t.hosts.length} hosts`;
}

/**
 * The request the form describes (`values` by field key, see `fieldKey`), or why it cannot run. An agent run asks
 * to confirm when it targets more than one host or a selector; an orchestration always does, as its steps may
 * reach any part of the fleet.
 */
export function planDispatch(choice: Choice | undefined, values: Readonly<Record<string, string>>): DispatchPlan {
  if (choice === undefined) return { ok: false, error: 'choose an orchestration or an agent first' };
  const what = choiceLabel(choice);
  if (choice.kind === 'orchestration') {
    const free = parseFreeInputs(values.inputs ?? '');
    if (!free.ok) return free;
    return { ok: true, kind: 'orchestration', request: { name: choice.name, inputs: free.inputs }, what, targets: 'the hosts its steps name', confirm: true };
  }
  const parsed = parseTargets(values.targets ?? '');
  if (!parsed.ok) return parsed;
  const inputs: Record<string, unknown> = {};
  for (const input of choice.agent.inputs) {
    const text = (values[`input:${input.name}`] ?? '').trim();
    if (text === '' && input.type !== 'string') continue; // not given: the agent's default applies
    const coerced = coerceInput(input, text);
    if (!coerced.ok) return coerced;
    inputs[input.name] = coerced.value;
  }
  const spec = { agent: choice.name, prompt: values.prompt ?? '', inputs };
  const t = parsed.targets;
  const request: CreateRunInput | CreateRunsInput =
    t.kind === 'selector' ? { ...spec, selector: t.selector } : t.hosts.length === 1 ? { ...spec, host: t.hosts[0]! } : { ...spec, hosts: t.hosts };
  return { ok: true, kind: 'agent', request, what, targets: describeTargets(t), confirm: t.kind === 'selector' || t.hosts.length > 1 };
}
