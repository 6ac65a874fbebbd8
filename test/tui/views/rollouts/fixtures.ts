import { ROLLOUT_HOST_STATES, type RolloutHostState, type RolloutHostView, type RolloutView } from '../../../../src/protocol/rollout.js';
import { FRAME_NOW } from '../../support/frame.js';

/** Hosts named `web-NN` in the given states, batch by batch of `per`. */
export function rolloutHosts(states: readonly RolloutHostState[], per = 4): RolloutHostView[] {
  return states.map((state, i) => ({
    hostname: `web-${String(i + 1).padStart(2, '0')}`, batch: Math.floor(i / per), state, from_version: state === 'pending' ? '' : '0.1.0',
    reason: state === 'rolled_back' ? 'no heartbeat in 60s' : state === 'failed' ? 'offline' : null, updated_at: FRAME_NOW - 60_000,
  }));
}

/** A rollout of `hosts`, its counts taken from them. */
export function rollout(id: string, hosts: RolloutHostView[], over: Partial<RolloutView> = {}): RolloutView {
  const counts = Object.fromEntries(ROLLOUT_HOST_STATES.map((s) => [s, hosts.filter((h) => h.state === s).length])) as RolloutView['counts'];
  return {
    rollout_id: id, version: '0.2.0', state: 'running', created_at: FRAME_NOW - 300_000, created_by: 'admin', ended_at: null, batch: 4, canary: 1,
    halt_on_error: false, health_timeout_ms: 60_000, allow_downgrade: false, counts, halted_reason: null, hosts, ...over,
  };
}
