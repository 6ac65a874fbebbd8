import { currentFrame } from '../store/reduce-ui.js';
import type { UiState } from '../store/ui-state.js';
import type { Scope } from './bindings.js';

const SUB_SCOPES: ReadonlySet<string> = new Set<Scope>([
  'findings.feed',
  'findings.groups',
  'findings.clusters',
  'runs.orchestrations',
  'runs.agents',
]);

/**
 * The key scopes active on screen, most specific first: the sub-view (`findings.feed`, `runs.agents`…) when the
 * findings or runs view is shown, the current view, then `global`.
 */
export function activeScopes(ui: UiState): Scope[] {
  const view = currentFrame(ui).view;
  const sub = view === 'findings' ? `findings.${ui.findingsMode}` : view === 'runs' ? `runs.${ui.runsMode}` : undefined;
  return [...(sub !== undefined && SUB_SCOPES.has(sub) ? [sub as Scope] : []), view, 'global'];
}
