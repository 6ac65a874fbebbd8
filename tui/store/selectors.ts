import { HOST_STATES, ROLES, type HostState, type HostView, type Role } from '../../src/protocol/api.js';
import { SEVERITIES, type Severity } from '../../src/protocol/finding.js';
import type { FindingSummary } from '../../src/protocol/api.js';
import { currentFrame } from './reduce-ui.js';
import type { ConsoleState } from './state.js';
import { frameKey, type ViewFrame } from './ui-state.js';

/**
 * Derived data the views read on every frame. Each selector returns a value that keeps its identity while the
 * slice it derives from does (memoised on that slice's identity), so `useConsole(selector)` does not re-render.
 */

/** `fn` memoised on the identity of its one (object) argument. */
function memoOn<A extends object, R>(fn: (arg: A) => R): (arg: A) => R {
  const cache = new WeakMap<A, R>();
  return (arg) => {
    if (cache.has(arg)) return cache.get(arg) as R;
    const value = fn(arg);
    cache.set(arg, value);
    return value;
  };
}

/** Hosts per liveness state, and the total. */
export type FleetCounts = Readonly<Record<HostState, number>> & { readonly total: number };

const countFleet = memoOn((hosts: ReadonlyMap<string, HostView>): FleetCounts => {
  const counts: Record<HostState, number> = { online: 0, stale: 0, offline: 0 };
  for (const h of hosts.values()) counts[h.state] += 1;
  return { ...counts, total: hosts.size };
});

/** How many hosts are online, stale and offline (memoised on the hosts map). */
export function selectFleetCounts(state: ConsoleState): FleetCounts {
  return countFleet(state.hosts);
}

/** The host states in display order. */
export const FLEET_STATES: readonly HostState[] = HOST_STATES;

/** The frame on screen (the top of the view stack). */
export function selectCurrentFrame(state: ConsoleState): ViewFrame {
  return currentFrame(state.ui);
}

/** The selected row of the frame on screen (0 when none was chosen). */
export function selectSelection(state: ConsoleState): number {
  return state.ui.selection[frameKey(currentFrame(state.ui))] ?? 0;
}

/** The live filter of the frame on screen ('' when none). */
export function selectFilter(state: ConsoleState): string {
  return state.ui.filters[frameKey(currentFrame(state.ui))] ?? '';
}

/** One severity's count of open findings. */
export interface SeverityCount {
  severity: Severity;
  count: number;
}

const openCounts = memoOn((summary: FindingSummary): readonly SeverityCount[] =>
  SEVERITIES.map((severity) => ({ severity, count: summary.open_by_severity[severity] ?? 0 })),
);

/** Open findings per severity, most severe first, every severity present (the header's counts). */
export function selectOpenBySeverity(state: ConsoleState): readonly SeverityCount[] {
  return openCounts(state.summary);
}

/** Open findings of one host (0 when the summary has no per-host counts yet). */
export function selectOpenForHost(state: ConsoleState, hostname: string): number {
  return state.summary.open_by_host?.[hostname] ?? 0;
}

/** True when `role` may do what needs `needed` (viewer < operator < admin); false for an unknown role. */
export function canDo(role: Role | undefined, needed: Role): boolean {
  return role !== undefined && ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** The token's role, once whoami answered. */
export function selectRole(state: ConsoleState): Role | undefined {
  return state.me?.role;
}

/** Why an action needing `needed` is not allowed (for "a disabled action says why"), or null when it is. */
export function whyNot(role: Role | undefined, needed: Role): string | null {
  if (canDo(role, needed)) return null;
  return role === undefined ? 'not signed in yet' : `needs the ${needed} role (you are ${role})`;
}
