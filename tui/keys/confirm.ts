import { sanitize, truncate } from '../components/text.js';
import type { UiEvent } from '../store/events.js';
import { BINDINGS } from './bindings.js';

/** `template` with `{name}` placeholders filled from `vars` (sanitized, long values cut); unknown ones stay. */
export function fillTemplate(template: string, vars: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = vars[name];
    return value === undefined ? whole : truncate(sanitize(String(value)), 60);
  });
}

/**
 * The event that asks the operator to confirm binding `bindingId` (its `confirm` question filled from `vars`).
 * On `y` the shell hands `bindingId` and `payload` to the view's `onConfirm` (see view-keys.tsx).
 */
export function askConfirm(bindingId: string, vars: Readonly<Record<string, string | number>>, payload: unknown): UiEvent {
  const binding = BINDINGS.find((b) => b.id === bindingId);
  const template = binding?.confirm ?? `${binding?.label ?? bindingId}?`;
  return { type: 'ui/confirm', confirm: { bindingId, message: fillTemplate(template, vars), payload } };
}
