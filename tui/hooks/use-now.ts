import { useEffect, useState } from 'react';
import { useClock } from './console-context.js';

/**
 * The console clock's time, re-read every `intervalMs` so ages (`4s`, `3m`) tick live. Only the component that
 * calls it re-renders on a tick; with a fixed test clock the frames stay identical.
 */
export function useNow(intervalMs = 1000): number {
  const clock = useClock();
  const [now, setNow] = useState(clock);
  useEffect(() => {
    const timer = setInterval(() => setNow(clock()), intervalMs);
    return () => clearInterval(timer);
  }, [clock, intervalMs]);
  return now;
}
