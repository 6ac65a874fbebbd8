import type { SimTimeline } from './messages.js';

/** How the fleet lived through one CP restart. */
export interface RestartTimeline {
  /** Per sim: ms from the kill until it saw its tunnel close. */
  noticeMs: number[];
  /** Per sim: ms from the new CP's spawn until its first welcome from it. */
  reconnectMs: number[];
  /** Sims that never saw the close, or never came back. */
  missing: number;
  /** Tunnels to the new CP that dropped again after their welcome, by close code. */
  dropsAfter: Map<number, number>;
}

/** Reads the sims' welcomes and drops around a restart: the old CP killed at `killedAt`, the new one spawned at `spawnedAt` (Date.now()). */
export function restartTimeline(sims: readonly SimTimeline[], killedAt: number, spawnedAt: number): RestartTimeline {
  const t: RestartTimeline = { noticeMs: [], reconnectMs: [], missing: 0, dropsAfter: new Map() };
  for (const sim of sims) {
    const down = sim.downAt.find(([at]) => at >= killedAt);
    const up = sim.upAt.find((at) => at >= spawnedAt);
    if (!down || up === undefined) {
      t.missing++;
      continue;
    }
    t.noticeMs.push(down[0] - killedAt);
    t.reconnectMs.push(up - spawnedAt);
    for (const [at, code] of sim.downAt) if (at > up) t.dropsAfter.set(code, (t.dropsAfter.get(code) ?? 0) + 1);
  }
  return t;
}
