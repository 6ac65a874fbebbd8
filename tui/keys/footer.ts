import type { Role } from '../../src/protocol/api.js';
import { bindingsFor, type Scope } from './bindings.js';
import { disabledReason } from './resolve-key.js';

/** One footer hint: the key to press, a short label, and why it is disabled (if it is). */
export interface Hint {
  id: string;
  key: string;
  label: string;
  disabled?: string;
}

/** A binding label without its parenthesised detail (`command (:fleet …)` → `command`): footers are short. */
export function shortLabel(label: string): string {
  return label.replace(/\s*\(.*\)\s*$/, '');
}

/**
 * The footer hints for `scopes` (most specific first), derived from BINDINGS: the `footer` bindings of the view's
 * scopes first, then the global ones; a key already hinted by a more specific scope is not repeated. Bindings the
 * role may not use are kept, marked disabled.
 */
export function footerHints(scopes: readonly Scope[], role: Role | null): Hint[] {
  const ordered = [...scopes.filter((s) => s !== 'global'), 'global' as const];
  const seen = new Set<string>();
  const hints: Hint[] = [];
  for (const scope of ordered) {
    for (const b of bindingsFor([scope])) {
      const key = b.keys[0]!;
      const shadowed = seen.has(key);
      for (const k of b.keys) seen.add(k);
      if (b.footer !== true || shadowed) continue;
      const disabled = disabledReason(b, role);
      hints.push({ id: b.id, key, label: shortLabel(b.label), ...(disabled !== undefined && { disabled }) });
    }
  }
  return hints;
}
