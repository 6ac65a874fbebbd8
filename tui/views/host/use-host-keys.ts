import { useDispatch } from '../../hooks/console-context.js';
import { useViewKeys } from '../../keys/view-keys.js';

/** The host view's keys: `f` opens its findings (the findings view filtered `host:NAME`), `d` dispatches to it. */
export function useHostKeys(hostname: string): void {
  const dispatch = useDispatch();
  useViewKeys({
    onKey(binding) {
      if (binding === undefined) return;
      switch (binding.id) {
        case 'host.findings':
          return dispatch({ type: 'ui/push', frame: { view: 'findings', filter: `host:${hostname}` } });
        case 'host.dispatch':
          return dispatch({ type: 'ui/push', frame: { view: 'dispatch', key: hostname } });
        default:
          return;
      }
    },
  });
}
