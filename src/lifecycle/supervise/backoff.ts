/** The next pause before restarting a crashed daimon: `min` first, then doubling up to `max` (0 = no pause yet). */
export function nextBackoff(previous: number, min: number, max: number): number {
  return previous <= 0 ? min : Math.min(previous * 2, max);
}
