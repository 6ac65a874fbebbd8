import { describe, expect, it } from 'vitest';
import { initialState } from '../../../../tui/store/initial-state.js';
import { reduce } from '../../../../tui/store/reduce.js';
import { hostStates } from '../../../../tui/views/rollouts/rollout-lines.js';
import { FRAME_NOW } from '../../support/frame.js';
import { rollout, rolloutHosts } from './fixtures.js';

describe('rollouts in the console store', () => {
  const whole = rollout('ro_00000000000000aa', rolloutHosts(['pending', 'pending', 'pending']));
  const { hosts: _hosts, ...summary } = whole;

  it('a rollout first seen on the stream shows its counts until it is fetched; a fetch older than the stream loses', () => {
    let s = initialState('https://cp', FRAME_NOW);
    // The stream: web-01 moved to downloading (newer than anything the fetch will say).
    const moved = { ...whole.hosts![0]!, state: 'downloading' as const, updated_at: FRAME_NOW };
    const counts = { ...whole.counts, pending: 2, downloading: 1 };
    s = reduce(s, { type: 'stream', messages: [{ type: 'rollout', cursor: 5, rollout: { ...summary, counts }, host: moved }] });
    const partial = s.rollouts.get(whole.rollout_id)!;
    expect(partial.hosts).toHaveLength(1);
    expect(hostStates(partial)).toEqual(['pending', 'pending', 'downloading']);

    // The fetch answers with what it read before that move.
    s = reduce(s, { type: 'rollout', rollout: whole });
    const merged = s.rollouts.get(whole.rollout_id)!;
    expect(merged.counts).toEqual(counts);
    expect(hostStates(merged)).toEqual(['downloading', 'pending', 'pending']);
  });
});
