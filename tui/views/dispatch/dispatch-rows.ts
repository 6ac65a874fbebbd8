import type { AgentInputView, AgentLibraryEntry } from '../../../src/protocol/findings-api.js';
import type { OrchestrationView } from '../../../src/protocol/orchestration-api.js';

/** Something the dispatch view can run: an agent of the CP's library or a stored orchestration. */
export type Choice =
  | { kind: 'agent'; name: string; description: string; agent: AgentLibraryEntry }
  | { kind: 'orchestration'; name: string; description: string; orchestration: OrchestrationView };

/** Orchestrations first (they are the playbooks), then agents, each by name. */
export function choices(orchestrations: readonly OrchestrationView[], agents: readonly AgentLibraryEntry[]): Choice[] {
  const byName = <T extends { name: string }>(list: readonly T[]): T[] => [...list].sort((a, b) => a.name.localeCompare(b.name));
  return [
    ...byName(orchestrations).map((o): Choice => ({ kind: 'orchestration', name: o.name, description: o.description, orchestration: o })),
    ...byName(agents).map((a): Choice => ({ kind: 'agent', name: a.name, description: a.description, agent: a })),
  ];
}

/** Choices whose name or description holds `query` (any case); all of them for an empty query. */
export function matchChoices(all: readonly Choice[], query: string): Choice[] {
  const q = query.trim().toLowerCase();
  return q === '' ? [...all] : all.filter((c) => c.name.toLowerCase().includes(q) || c.description.toLowerCase().includes(q));
}

/** `agent host-check` / `orchestration fleet-ioc-sweep`. */
export function choiceLabel(c: Choice): string {
  return `${c.kind} ${c.name}`;
}

/** The form's fields, focused one at a time (tab / shift+tab). `input` fields are an agent's declared inputs. */
export type Field =
  | { id: 'what' }
  | { id: 'targets' }
  | { id: 'prompt' }
  | { id: 'input'; input: AgentInputView }
  | { id: 'inputs' }
  | { id: 'run' };

/** The fields for the chosen thing: an agent takes targets, a prompt and its inputs; an orchestration free `k=v` inputs. */
export function formFields(choice: Choice | undefined): Field[] {
  if (choice === undefined) return [{ id: 'what' }];
  if (choice.kind === 'orchestration') return [{ id: 'what' }, { id: 'inputs' }, { id: 'run' }];
  return [{ id: 'what' }, { id: 'targets' }, { id: 'prompt' }, ...choice.agent.inputs.map((input): Field => ({ id: 'input', input })), { id: 'run' }];
}

/** The key a field's text is kept under in the form's values (`input:NAME` for an agent input). */
export function fieldKey(f: Field): string {
  return f.id === 'input' ? `input:${f.input.name}` : f.id;
}

/** An input's default as the text a field starts with (lists comma-separated). */
export function defaultText(input: AgentInputView): string {
  return Array.isArray(input.default) ? input.default.join(',') : String(input.default);
}

/** A field's label: `Targets`, `Prompt`, an input's name. */
export function fieldLabel(f: Field): string {
  switch (f.id) {
    case 'what': return 'What';
    case 'targets': return 'Targets';
    case 'prompt': return 'Prompt';
    case 'input': return f.input.name;
    case 'inputs': return 'Inputs';
    case 'run': return '';
  }
}

/** The hint shown after a field: what it takes. */
export function fieldHint(f: Field): string {
  switch (f.id) {
    case 'what': return '↑/↓ choose, type to search';
    case 'targets': return 'hosts (a,b) · label:k=v · all';
    case 'prompt': return 'optional';
    case 'input': return `${f.input.type}${f.input.description ? ` — ${f.input.description}` : ''}`;
    case 'inputs': return 'k=v k=v (the orchestration\'s inputs)';
    case 'run': return 'enter runs it';
  }
}
