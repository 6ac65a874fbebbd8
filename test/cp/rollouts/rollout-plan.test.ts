import { describe, expect, it } from 'vitest';
import { currentBatch, isForward, planBatches } from '../../../src/cp/rollouts/rollout-plan.js';

describe('planBatches', () => {
  it.each([
    { canary: 0, batch: 2, want: [0, 0, 1, 1, 2] },
    { canary: 1, batch: 2, want: [0, 1, 1, 2, 2] },
    { canary: 2, batch: 10, want: [0, 0, 1, 1, 1] },
    { canary: 9, batch: 1, want: [0, 0, 0, 0, 0] },
  ])('canary $canary, batch $batch', ({ canary, batch, want }) => {
    expect(planBatches(['e', 'c', 'a', 'd', 'b'], canary, batch)).toEqual(['a', 'b', 'c', 'd', 'e'].map((hostname, i) => ({ hostname, batch: want[i] })));
  });

  it('drops a host listed twice', () => {
    expect(planBatches(['a', 'a'], 0, 5)).toEqual([{ hostname: 'a', batch: 0 }]);
  });
});

describe('isForward', () => {
  it.each([
    ['pending', 'downloading', true],
    ['downloading', 'restarting', true],
    ['staged', 'downloading', false],
    ['staged', 'staged', false],
    ['restarting', 'rolled_back', true],
    ['pending', 'failed', true],
    ['healthy', 'failed', false],
    ['failed', 'healthy', false],
  ] as const)('%s → %s: %s', (from, to, want) => {
    expect(isForward(from, to)).toBe(want);
  });
});

describe('currentBatch', () => {
  it('is the lowest batch with a host not final', () => {
    expect(currentBatch([{ batch: 0, state: 'healthy' }, { batch: 1, state: 'failed' }, { batch: 2, state: 'pending' }, { batch: 1, state: 'staged' }])).toBe(1);
    expect(currentBatch([{ batch: 0, state: 'healthy' }])).toBeUndefined();
  });
});
