import { useLayoutEffect, type RefObject } from 'react';
import type { StoredFinding } from '../../../src/protocol/finding.js';
import { useDispatch } from '../../hooks/console-context.js';

/** The finding the feed last drew as selected, and at which index. */
export interface FeedAnchor {
  id: number;
  index: number;
}

/**
 * Keeps the feed's selection on the same finding while new ones stream in above it. At the top (index 0) the
 * selection follows the newest finding, like `tail -f`; once the operator moved down, the selected finding stays
 * selected (its index moves with it). `anchor` is kept current so keys act on the finding that was on screen.
 */
export function useFeedAnchor(list: readonly StoredFinding[], selected: number, anchor: RefObject<FeedAnchor | null>): void {
  const dispatch = useDispatch();
  useLayoutEffect(() => {
    const prev = anchor.current;
    if (prev !== null && selected === prev.index && selected > 0 && list[selected]?.id !== prev.id) {
      const at = list.findIndex((f) => f.id === prev.id);
      if (at >= 0) {
        anchor.current = { id: prev.id, index: at };
        dispatch({ type: 'ui/select', index: at });
        return;
      }
    }
    const f = list[selected];
    anchor.current = f === undefined ? null : { id: f.id, index: selected };
  }, [list, selected, dispatch, anchor]);
}

/**
 * The finding a key acts on: the one drawn as selected when the selection has not moved since (findings that
 * arrived after the last frame do not shift it), else the one at the selection now.
 */
export function anchoredFinding(list: readonly StoredFinding[], selected: number, anchor: FeedAnchor | null): StoredFinding | undefined {
  if (anchor !== null && anchor.index === selected) {
    const drawn = list.find((f) => f.id === anchor.id);
    if (drawn !== undefined) return drawn;
  }
  return list[selected];
}
