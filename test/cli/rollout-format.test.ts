import { describe, expect, it } from 'vitest';
import { allHealthy, formatHostRollout, isRolloutSettled, progressBar, progressLine } from '../../src/cli/commands/rollout-format.js';
import { rolloutProgress } from '../../src/protocol/rollout.js';
import { lineText } from '../../src/cli/output.js';
import { ROLLOUT_HOST_STATES, type RolloutHostState, type RolloutView } from '../../src/protocol/rollout.js';

function view(counts: Partial<Record<RolloutHostState, number>>, state: RolloutView['state'] = 'running'): RolloutView {
  return {
    rollout_id: 'ro_0123456789abcdef', version: '0.2.0', state, created_at: 0, created_by: 'admin', ended_at: null, batch: 10, canary: 0,
    halt_on_error: false, health_timeout_ms: 60_000, allow_downgrade: false, halted_reason: null,
    counts: Object.fromEntries(ROLLOUT_HOST_STATES.map((s) => [s, counts[s] ?? 0])) as RolloutView['counts'],
  };
}

describe('rollout progress', () => {
  it.each([
    [0, 4, '[--------------------]'],
    [1, 4, '[#####---------------]'],
    [4, 4, '[####################]'],
    [0, 0, '[####################]'],
  ])('bar for %i of %i', (done, total, bar) => expect(progressBar(done, total)).toBe(bar));

  it('counts each state present, in lifecycle order, and names a rollout that stopped', () => {
    expect(lineText(progressLine(view({ pending: 2, staged: 1, healthy: 1 })))).toBe('[#####---------------] 1/4  pending 2 · staged 1 · healthy 1');
    expect(lineText(progressLine(view({ failed: 1, pending: 3 }, 'halted')))).toBe('[#####---------------] 1/4  halted  pending 3 · failed 1');
  });

  it('is settled when completed, or stopped with nothing in flight', () => {
    expect(isRolloutSettled(view({ healthy: 2 }, 'completed'))).toBe(true);
    expect(isRolloutSettled(view({ healthy: 1, pending: 1 }))).toBe(false);
    expect(isRolloutSettled(view({ failed: 1, pending: 3 }, 'halted'))).toBe(true);
    expect(isRolloutSettled(view({ failed: 1, downloading: 1 }, 'halted'))).toBe(false);
  });

  it('exits 0 only when every host is healthy', () => {
    expect(allHealthy(view({ healthy: 3 }, 'completed'))).toBe(true);
    expect(allHealthy(view({ healthy: 2, rolled_back: 1 }, 'completed'))).toBe(false);
    expect(allHealthy(view({}, 'completed'))).toBe(false);
  });

  it('orders views by progress, so a late poll never undoes a streamed view', () => {
    expect(rolloutProgress(view({ pending: 1, downloading: 1 }))).toBeGreaterThan(rolloutProgress(view({ pending: 2 })));
    expect(rolloutProgress(view({ healthy: 2 }, 'completed'))).toBeGreaterThan(rolloutProgress(view({ healthy: 2 })));
  });

  it('shows a host\'s latest rollout as state and version', () => {
    expect(formatHostRollout({ rollout_id: 'ro_0123456789abcdef', version: '0.2.0', state: 'healthy' })).toBe('healthy 0.2.0');
    expect(formatHostRollout(null)).toBe('-');
  });
});
