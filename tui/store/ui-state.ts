/** The console's navigation and interaction state: part of ConsoleState, changed only through `ui/*` events. */

/** The views one can be on. */
export const VIEW_IDS = ['fleet', 'host', 'findings', 'finding', 'runs', 'run', 'dispatch', 'rollouts'] as const;
/** A view. */
export type ViewId = (typeof VIEW_IDS)[number];
/** The top-level views `:` jumps to (the others are drill-ins). */
export const ROOT_VIEWS = ['fleet', 'findings', 'runs', 'dispatch', 'rollouts'] as const;
/** A top-level view. */
export type RootView = (typeof ROOT_VIEWS)[number];

/**
 * One entry of the view stack. `key` says what a drill-in shows: a hostname (`host`), a finding id (`finding`),
 * `orch:<id>` or `agent:<run id>` (`run`); `filter` pre-filters a pushed list view (e.g. a host's findings:
 * `host:web-01`).
 */
export interface ViewFrame {
  view: ViewId;
  key?: string;
  filter?: string;
}

/** The findings view's sub-views. */
export const FINDINGS_MODES = ['feed', 'groups', 'clusters', 'breakdown'] as const;
/** A findings sub-view. */
export type FindingsMode = (typeof FINDINGS_MODES)[number];
/** The runs view's sub-views. */
export const RUNS_MODES = ['orchestrations', 'agents'] as const;
/** A runs sub-view. */
export type RunsMode = (typeof RUNS_MODES)[number];

/** The line at the bottom that takes typed text. */
export interface Prompt {
  kind: 'filter' | 'command';
  text: string;
}

/** A pending confirmation: the binding that asked, the question, and what to do on `y`. */
export interface Confirm {
  bindingId: string;
  message: string;
  /** Opaque data the view's key hook gets back when confirmed. */
  payload: unknown;
}

/** A message that clears itself after FLASH_MS. */
export interface Flash {
  text: string;
  level: 'info' | 'warn' | 'error';
  at: number;
}
/** How long a flash stays. */
export const FLASH_MS = 4000;

/** Navigation and interaction state. */
export interface UiState {
  /** The view stack: [0] is a root view, the last is shown; crumbs show it. Never empty. */
  stack: readonly ViewFrame[];
  /** Selected row per view frame, by `frameKey(frame)`. */
  selection: Readonly<Record<string, number>>;
  /** Live filter text per view frame, by `frameKey(frame)`. */
  filters: Readonly<Record<string, string>>;
  /** Sort per view id: the column id and direction. */
  sort: Readonly<Record<string, { column: string; desc: boolean }>>;
  findingsMode: FindingsMode;
  runsMode: RunsMode;
  prompt: Prompt | null;
  confirm: Confirm | null;
  help: boolean;
  flash: Flash | null;
}

/** The key of a view frame in `selection` and `filters`: `view` or `view:key`. */
export function frameKey(frame: ViewFrame): string {
  return frame.key === undefined ? frame.view : `${frame.view}:${frame.key}`;
}
