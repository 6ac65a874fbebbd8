import type { FindingSummary } from '../../src/protocol/api.js';
import { SEVERITIES, TRIAGE_STATUSES } from '../../src/protocol/finding.js';
import { createRing } from './ring.js';
import { LIMITS, type ConsoleState } from './state.js';
import type { UiState } from './ui-state.js';

/** A summary with nothing counted: every severity and triage status present at 0. */
export function emptySummary(): FindingSummary {
  const zeroes = (keys: readonly string[]): Record<string, number> => Object.fromEntries(keys.map((k) => [k, 0]));
  return {
    total: 0,
    by_severity: zeroes(SEVERITIES),
    by_category: {},
    by_agent: {},
    groups: 0,
    by_status: zeroes(TRIAGE_STATUSES),
    open_by_severity: zeroes(SEVERITIES),
  };
}

/** The navigation state at start: the fleet view, nothing selected, filtered or shown. */
export function initialUiState(): UiState {
  return {
    stack: [{ view: 'fleet' }],
    selection: {},
    filters: {},
    sort: {},
    findingsMode: 'feed',
    runsMode: 'orchestrations',
    prompt: null,
    confirm: null,
    help: false,
    flash: null,
  };
}

/** The console's state before anything is loaded from the CP at `cp` (`now` in ms). */
export function initialState(cp: string, now: number): ConsoleState {
  return {
    cp,
    me: null,
    connection: { state: 'connecting', detail: null, since: now, reconnects: 0 },
    loaded: false,
    hosts: new Map(),
    hostsRefreshedAt: 0,
    summary: emptySummary(),
    findings: createRing(LIMITS.feed),
    groups: [],
    clusters: [],
    runs: new Map(),
    orchestrationRuns: new Map(),
    rollouts: new Map(),
    orchestrations: [],
    agents: [],
    details: { findingEvents: new Map(), transcript: null },
    cursor: undefined,
    ui: initialUiState(),
  };
}
