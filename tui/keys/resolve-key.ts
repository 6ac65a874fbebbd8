import { ROLES, type Role } from '../../src/protocol/api.js';
import { BINDINGS, type Binding, type Scope } from './bindings.js';

/** A key that maps to a binding the current role may not use, and why. */
export interface DisabledKey {
  binding: Binding;
  disabled: string;
}

/** Why `role` may not use `binding`, or undefined when it may. A null role (not known yet) counts as viewer. */
export function disabledReason(binding: Binding, role: Role | null): string | undefined {
  if (binding.role === undefined) return undefined;
  const have = role === null ? 0 : ROLES.indexOf(role);
  if (have >= ROLES.indexOf(binding.role)) return undefined;
  return role === null
    ? `needs the ${binding.role} role; your role is not known yet`
    : `needs the ${binding.role} role; you are ${role}`;
}

/**
 * The binding a key name means in `scopes` (most specific first: the first scope with a binding for the key
 * wins), or `{ binding, disabled }` when the role may not use it, or undefined when the key means nothing here.
 */
export function resolveKey(name: string, scopes: readonly Scope[], role: Role | null): Binding | DisabledKey | undefined {
  for (const scope of scopes) {
    const binding = BINDINGS.find((b) => b.scope === scope && b.keys.includes(name));
    if (binding === undefined) continue;
    const disabled = disabledReason(binding, role);
    return disabled === undefined ? binding : { binding, disabled };
  }
  return undefined;
}

/** True when `resolveKey` found a binding the role may not use. */
export function isDisabled(r: Binding | DisabledKey | undefined): r is DisabledKey {
  return r !== undefined && 'disabled' in r;
}
