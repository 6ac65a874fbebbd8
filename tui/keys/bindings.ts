import type { Role } from '../../src/protocol/api.js';
import type { ViewId } from '../store/ui-state.js';

/**
 * Where a binding applies: everywhere, in one view, or in one sub-view of the findings / runs views.
 * `findings.groups` applies on the findings view in groups mode, `findings` in every mode.
 */
export type Scope = 'global' | ViewId | 'findings.feed' | 'findings.groups' | 'findings.clusters' | 'runs.orchestrations' | 'runs.agents';

/**
 * One key binding. The footer hints, the `?` overlay and the tests all read this table, so they cannot drift.
 * Key names: a printable character as typed (`a`, `G`, `?`), or `enter`, `esc`, `tab`, `shift+tab`, `up`, `down`,
 * `left`, `right`, `pageup`, `pagedown`, `home`, `end`, `ctrl+c`, `ctrl+f`, `ctrl+b` (see key-name.ts).
 */
export interface Binding {
  /** Stable id, `scope.action`; key hooks switch on it. */
  id: string;
  keys: readonly string[];
  /** What it does, short (footer and overlay). */
  label: string;
  scope: Scope;
  /** Shown in the footer hints of its scope. */
  footer?: boolean;
  /** Asks before acting: the question shown (placeholders are filled by the view). */
  confirm?: string;
  /** The least role it needs; a weaker token sees the key disabled, with why. */
  role?: Role;
}

/** The whole key map of the console. */
export const BINDINGS: readonly Binding[] = [
  // Everywhere.
  { id: 'global.help', keys: ['?'], label: 'help', scope: 'global', footer: true },
  { id: 'global.filter', keys: ['/'], label: 'filter', scope: 'global', footer: true },
  { id: 'global.command', keys: [':'], label: 'command (:fleet :findings :runs :dispatch :q)', scope: 'global', footer: true },
  { id: 'global.back', keys: ['esc'], label: 'back', scope: 'global', footer: true },
  { id: 'global.quit', keys: ['q', 'ctrl+c'], label: 'quit', scope: 'global', footer: true },
  { id: 'global.down', keys: ['j', 'down'], label: 'down', scope: 'global' },
  { id: 'global.up', keys: ['k', 'up'], label: 'up', scope: 'global' },
  { id: 'global.top', keys: ['g', 'home'], label: 'top', scope: 'global' },
  { id: 'global.bottom', keys: ['G', 'end'], label: 'bottom', scope: 'global' },
  { id: 'global.pagedown', keys: ['pagedown', 'ctrl+f'], label: 'page down', scope: 'global' },
  { id: 'global.pageup', keys: ['pageup', 'ctrl+b'], label: 'page up', scope: 'global' },
  { id: 'global.open', keys: ['enter'], label: 'open', scope: 'global', footer: true },
  { id: 'global.fleet', keys: ['1'], label: 'fleet view', scope: 'global' },
  { id: 'global.findings', keys: ['2'], label: 'findings view', scope: 'global' },
  { id: 'global.runs', keys: ['3'], label: 'runs view', scope: 'global' },
  { id: 'global.dispatch', keys: ['4'], label: 'dispatch view', scope: 'global' },
  { id: 'global.refresh', keys: ['ctrl+r'], label: 'reload from the CP', scope: 'global' },

  // Fleet.
  { id: 'fleet.sort', keys: ['s'], label: 'sort by next column', scope: 'fleet', footer: true },
  { id: 'fleet.reverse', keys: ['S'], label: 'reverse sort', scope: 'fleet' },
  { id: 'fleet.dispatch', keys: ['d'], label: 'dispatch to this host', scope: 'fleet', footer: true, role: 'operator' },

  // One host.
  { id: 'host.findings', keys: ['f'], label: 'its findings', scope: 'host', footer: true },
  { id: 'host.dispatch', keys: ['d'], label: 'dispatch to this host', scope: 'host', footer: true, role: 'operator' },

  // Findings.
  { id: 'findings.mode', keys: ['tab'], label: 'next sub-view (feed, groups, clusters, breakdown)', scope: 'findings', footer: true },
  { id: 'findings.ack', keys: ['a'], label: 'acknowledge', scope: 'findings.feed', footer: true, role: 'operator' },
  { id: 'findings.resolve', keys: ['x'], label: 'resolve', scope: 'findings.feed', footer: true, role: 'operator' },
  { id: 'findings.false-positive', keys: ['p'], label: 'false positive', scope: 'findings.feed', footer: true, role: 'operator' },
  { id: 'findings.reopen', keys: ['o'], label: 'reopen', scope: 'findings.feed', role: 'operator' },
  { id: 'groups.ack', keys: ['a'], label: 'acknowledge the group', scope: 'findings.groups', footer: true, role: 'operator', confirm: 'Acknowledge all {count} findings of "{title}"?' },
  { id: 'groups.resolve', keys: ['x'], label: 'resolve the group', scope: 'findings.groups', footer: true, role: 'operator', confirm: 'Resolve all {count} findings of "{title}"?' },
  { id: 'groups.false-positive', keys: ['p'], label: 'mark the group false positive', scope: 'findings.groups', footer: true, role: 'operator', confirm: 'Mark all {count} findings of "{title}" false positive?' },

  // One finding.
  { id: 'finding.ack', keys: ['a'], label: 'acknowledge', scope: 'finding', footer: true, role: 'operator' },
  { id: 'finding.resolve', keys: ['x'], label: 'resolve', scope: 'finding', footer: true, role: 'operator' },
  { id: 'finding.false-positive', keys: ['p'], label: 'false positive', scope: 'finding', footer: true, role: 'operator' },
  { id: 'finding.reopen', keys: ['o'], label: 'reopen', scope: 'finding', role: 'operator' },
  { id: 'finding.host', keys: ['h'], label: 'go to its host', scope: 'finding', footer: true },
  { id: 'finding.run', keys: ['u'], label: 'go to its run', scope: 'finding' },

  // Runs.
  { id: 'runs.mode', keys: ['tab'], label: 'orchestration runs / agent runs', scope: 'runs', footer: true },
  { id: 'runs.cancel', keys: ['c'], label: 'cancel the run', scope: 'runs', footer: true, role: 'operator', confirm: 'Cancel {run}?' },

  // One run.
  { id: 'run.approve', keys: ['a'], label: 'approve the waiting step', scope: 'run', footer: true, role: 'operator', confirm: 'Approve step {step} of {run}? It will run as shown.' },
  { id: 'run.reject', keys: ['r'], label: 'reject the waiting step', scope: 'run', footer: true, role: 'operator', confirm: 'Reject step {step} of {run}? The run will fail.' },
  { id: 'run.cancel', keys: ['c'], label: 'cancel the run', scope: 'run', footer: true, role: 'operator', confirm: 'Cancel {run}?' },
  { id: 'run.follow', keys: ['t'], label: 'follow the transcript', scope: 'run', footer: true },

  // Dispatch.
  { id: 'dispatch.next', keys: ['tab'], label: 'next field', scope: 'dispatch', footer: true },
  { id: 'dispatch.prev', keys: ['shift+tab'], label: 'previous field', scope: 'dispatch' },
  // enter (not ctrl+s, which many terminals take for flow control) runs the form from any field but the choice list.
  { id: 'dispatch.run', keys: ['enter'], label: 'run it', scope: 'dispatch', footer: true, role: 'operator', confirm: 'Run {what} on {targets}?' },
];

/** Bindings that apply in `scopes` (most specific first wins when two share a key), in table order. */
export function bindingsFor(scopes: readonly Scope[]): Binding[] {
  return BINDINGS.filter((b) => scopes.includes(b.scope));
}
