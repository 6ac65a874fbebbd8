import { useDispatch } from '../../hooks/console-context.js';
import { useViewKeys } from '../../keys/view-keys.js';
import type { ViewFrame } from '../../store/ui-state.js';
import { fleetSort, nextSortColumn, selectFleetHosts } from './fleet-rows.js';
import { currentSelection } from '../selection.js';

/**
 * The fleet view's keys: enter opens the selected host, `s` sorts by the next column, `S` reverses, `d` opens the
 * dispatch view for the selected host. j/k/g/G move within `rows` (the shell does it).
 */
export function useFleetKeys(frame: ViewFrame, rows: number, page: number): void {
  const dispatch = useDispatch();
  useViewKeys({
    rows,
    page,
    onKey(binding, _name, state) {
      const hosts = selectFleetHosts(state, frame);
      const host = hosts[currentSelection(state, frame, hosts.length)];
      const sort = fleetSort(state.ui.sort['fleet']);
      if (binding === undefined) return;
      switch (binding.id) {
        case 'global.open':
          if (host !== undefined) dispatch({ type: 'ui/push', frame: { view: 'host', key: host.hostname } });
          return;
        case 'fleet.sort':
          return dispatch({ type: 'ui/sort', view: 'fleet', column: nextSortColumn(sort.column) });
        case 'fleet.reverse':
          // The reducer flips a column sorted again; the default sort is not in the state yet, so set it first.
          if (state.ui.sort['fleet'] === undefined) dispatch({ type: 'ui/sort', view: 'fleet', column: sort.column });
          return dispatch({ type: 'ui/sort', view: 'fleet', column: sort.column });
        case 'fleet.dispatch':
          if (host !== undefined) dispatch({ type: 'ui/push', frame: { view: 'dispatch', key: host.hostname } });
          return;
        default:
          return;
      }
    },
  });
}
