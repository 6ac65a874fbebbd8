import { useActions, useDispatch } from '../../hooks/console-context.js';
import { useViewKeys } from '../../keys/view-keys.js';
import { TRIAGE_BY_BINDING } from '../findings/use-findings-keys.js';

/** Where the finding's `h` and `u` keys go: its host and its agent run (when known). */
export interface FindingLinks {
  id: number;
  host: string | undefined;
  runId: string | undefined;
}

/**
 * The finding view's keys: a/x/p/o triage it, `h` opens its host, `u` its agent run; j/k scroll the body when it
 * is longer than the view (`scrollRows` positions; the shell moves the frame's selection, used as the scroll offset).
 */
export function useFindingKeys(links: FindingLinks, scrollRows: number, page: number): void {
  const dispatch = useDispatch();
  const actions = useActions();
  useViewKeys({
    rows: scrollRows,
    page,
    onKey(binding) {
      const id = binding?.id;
      if (id === 'finding.host' && links.host !== undefined) return dispatch({ type: 'ui/push', frame: { view: 'host', key: links.host } });
      if (id === 'finding.run' && links.runId !== undefined) return dispatch({ type: 'ui/push', frame: { view: 'run', key: `agent:${links.runId}` } });
      const status = id === undefined ? undefined : TRIAGE_BY_BINDING[id];
      if (status !== undefined && id?.startsWith('finding.')) void actions.triage(links.id, status, 'finding');
    },
  });
}
