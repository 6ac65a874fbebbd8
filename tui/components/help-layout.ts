import type { Role } from '../../src/protocol/api.js';
import { BINDINGS, type Scope } from '../keys/bindings.js';
import { disabledReason } from '../keys/resolve-key.js';
import { pad } from './text.js';

/** What each scope is called in the help overlay. */
export const SCOPE_TITLES: Readonly<Record<Scope, string>> = {
  global: 'Everywhere',
  fleet: 'Fleet',
  host: 'One host',
  findings: 'Findings',
  'findings.feed': 'Findings · feed',
  'findings.groups': 'Findings · groups',
  'findings.clusters': 'Findings · clusters',
  finding: 'One finding',
  runs: 'Runs',
  'runs.orchestrations': 'Runs · orchestrations',
  'runs.agents': 'Runs · agent runs',
  run: 'One run',
  dispatch: 'Dispatch',
  rollouts: 'Rollouts',
};

/** One line of the overlay: a scope title, a binding, or a blank between groups. */
export interface HelpLine {
  kind: 'title' | 'binding' | 'blank';
  text: string;
  /** A binding the current role may not use. */
  disabled?: boolean;
}

/** Width of the keys column. */
const KEYS_WIDTH = Math.max(...BINDINGS.map((b) => b.keys.join(' ').length)) + 2;

/**
 * The overlay's groups, one per scope in the order the table first uses them, generated from BINDINGS: each binding
 * as `keys  label`, role-gated ones with `(operator)` and, when the role may not use them, a `⊘`.
 */
export function helpGroups(role: Role | null): HelpLine[][] {
  const scopes = [...new Set(BINDINGS.map((b) => b.scope))];
  return scopes.map((scope) => [
    { kind: 'title', text: SCOPE_TITLES[scope] },
    ...BINDINGS.filter((b) => b.scope === scope).map((b): HelpLine => {
      const disabled = disabledReason(b, role) !== undefined;
      const note = b.role !== undefined ? ` (${b.role})` : '';
      const confirm = b.confirm !== undefined ? ' — asks first' : '';
      return { kind: 'binding', text: `${disabled ? '⊘' : ' '} ${pad(b.keys.join(' '), KEYS_WIDTH)}${b.label}${note}${confirm}`, disabled };
    }),
  ]);
}

/**
 * Groups flowed into `columns` columns without splitting a group (each goes to the shortest column so far), a
 * blank line between groups. Returns the columns' lines.
 */
export function flowColumns(groups: readonly HelpLine[][], columns: number): HelpLine[][] {
  const cols: HelpLine[][] = Array.from({ length: Math.max(1, columns) }, () => []);
  const total = groups.reduce((n, g) => n + g.length + 1, 0);
  const target = Math.ceil(total / cols.length);
  let c = 0;
  for (const group of groups) {
    // Fill columns in order (reading order), moving on once one reaches its share.
    if (cols[c]!.length > 0 && cols[c]!.length + group.length > target && c < cols.length - 1) c += 1;
    if (cols[c]!.length > 0) cols[c]!.push({ kind: 'blank', text: '' });
    cols[c]!.push(...group);
  }
  return cols;
}

/** How many overlay columns fit in `width` (one per 50 columns, at least one). */
export function helpColumnCount(width: number): number {
  return Math.max(1, Math.floor(width / 50));
}
