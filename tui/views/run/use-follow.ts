import { useCallback, useEffect, useRef, useState } from 'react';
import { useActions } from '../../hooks/console-context.js';

/** The transcript a run view follows, if any, and how to change it. */
export interface Follow {
  following: string | null;
  /** Follows `runId`, or stops when it is the one followed already. */
  toggle(runId: string): void;
}

/**
 * Which run's transcript this view follows (`actions.followTranscript`); `auto` starts following it on mount.
 * The follow ends when the view unmounts, so a transcript long-polls only while it is on screen.
 */
export function useFollow(auto: string | undefined): Follow {
  const actions = useActions();
  const [following, setFollowing] = useState<string | null>(null);
  // Keys of one input chunk arrive before the next render: the ref holds the latest choice.
  const ref = useRef<string | null>(null);
  const set = useCallback(
    (runId: string | null) => {
      ref.current = runId;
      setFollowing(runId);
      if (runId === null) actions.stopTranscript();
      else actions.followTranscript(runId);
    },
    [actions],
  );
  useEffect(() => {
    if (auto !== undefined) set(auto);
    return () => {
      if (ref.current !== null) actions.stopTranscript();
      ref.current = null;
    };
  }, [auto, set, actions]);
  const toggle = useCallback((runId: string) => set(ref.current === runId ? null : runId), [set]);
  return { following, toggle };
}
