import { z } from 'zod';

/** Which hosts a fan-out dispatch targets: every live host, or those whose labels carry every listed `k=v`. */
export type HostSelector = { kind: 'all' } | { kind: 'labels'; labels: Record<string, string> };

/** Longest selector string accepted. */
export const SELECTOR_MAX_CHARS = 2048;

/**
 * Parses `all` or `label:k=v[,k=v]` (keys and values as host labels have them: keys 1..63 characters, values
 * up to 256, neither holding `,` nor `=`; a key at most once). Returns the reason when it does not parse.
 */
export function parseHostSelector(text: string): { ok: true; selector: HostSelector } | { ok: false; error: string } {
  if (text === 'all') return { ok: true, selector: { kind: 'all' } };
  if (text.length > SELECTOR_MAX_CHARS) return { ok: false, error: `longer than ${SELECTOR_MAX_CHARS} characters` };
  if (!text.startsWith('label:')) return { ok: false, error: `expected "all" or "label:k=v[,k=v]", got "${text.slice(0, 80)}"` };
  const labels: Record<string, string> = {};
  for (const pair of text.slice('label:'.length).split(',')) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    if (eq < 0 || key === '' || key.length > 63 || value.length > 256 || value.includes('=')) {
      return { ok: false, error: `"${pair.slice(0, 80)}" is not k=v (key 1..63 characters, value up to 256, no "=" or "," inside)` };
    }
    if (Object.hasOwn(labels, key)) return { ok: false, error: `label ${key} appears twice` };
    labels[key] = value;
  }
  return { ok: true, selector: { kind: 'labels', labels } };
}

/** True when a host with these labels is selected. */
export function matchesSelector(selector: HostSelector, hostLabels: Readonly<Record<string, string>>): boolean {
  if (selector.kind === 'all') return true;
  for (const [k, v] of Object.entries(selector.labels)) if (!Object.hasOwn(hostLabels, k) || hostLabels[k] !== v) return false;
  return true;
}

/** `selector` of a fan-out or a rollout: `all` or `label:k=v[,k=v]`, validated by `parseHostSelector`. */
export const hostSelectorSchema = z.string().superRefine((s, ctx) => {
  const parsed = parseHostSelector(s);
  if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.error });
});
