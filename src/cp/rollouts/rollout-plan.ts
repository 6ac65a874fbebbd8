import { FINAL_HOST_STATES, ROLLOUT_HOST_STATES, type RolloutHostState } from '../../protocol/rollout.js';

/** True for healthy, rolled_back and failed: a host does not leave these within a rollout. */
export function isFinal(state: RolloutHostState): boolean {
  return FINAL_HOST_STATES.includes(state);
}

/** True when a host may move from `from` to `to`: forward only, never out of a final state, never to itself. */
export function isForward(from: RolloutHostState, to: RolloutHostState): boolean {
  if (isFinal(from) || from === to) return false;
  return isFinal(to) || ROLLOUT_HOST_STATES.indexOf(to) > ROLLOUT_HOST_STATES.indexOf(from);
}

/**
 * Splits hosts into batches: the first `canary` alone (batch 0) when there is a canary, then `batch` at a time.
 * Hosts are taken in name order so a rollout's plan does not depend on how they were listed.
 */
export function planBatches(hostnames: readonly string[], canary: number, batch: number): { hostname: string; batch: number }[] {
  const sorted = [...new Set(hostnames)].sort();
  const head = Math.min(canary, sorted.length);
  return sorted.map((hostname, i) => ({
    hostname,
    batch: i < head ? 0 : (head > 0 ? 1 : 0) + Math.floor((i - head) / batch),
  }));
}

/** The first batch that still has a host not final (the one being worked on), or undefined when all are final. */
export function currentBatch(hosts: readonly { batch: number; state: RolloutHostState }[]): number | undefined {
  let current: number | undefined;
  for (const h of hosts) if (!isFinal(h.state) && (current === undefined || h.batch < current)) current = h.batch;
  return current;
}
