import { describe, expect, it } from 'vitest';
import { nameSome, sendInTurns } from '../../src/cp/fan-out.js';

describe('sendInTurns', () => {
  it('sends every item in order and lets the event loop run between turns', async () => {
    const sent: number[] = [];
    const yieldedAt: boolean[] = [];
    let yielded = false;
    setImmediate(() => (yielded = true));
    // A zero budget ends a turn at every 64th item: the callback queued on the loop runs before item 64, not before.
    const failed = await sendInTurns(Array.from({ length: 256 }, (_, i) => i), async (i) => {
      yieldedAt.push(yielded);
      sent.push(i);
    }, 0);
    expect(failed).toEqual([]);
    expect(sent).toEqual(Array.from({ length: 256 }, (_, i) => i));
    expect(yieldedAt.indexOf(true)).toBe(64);
  });

  it('sends everything in one turn when the budget allows', async () => {
    let yielded = false;
    setImmediate(() => (yielded = true));
    const seen: boolean[] = [];
    await sendInTurns(Array.from({ length: 500 }, (_, i) => i), async () => void seen.push(yielded), 10_000);
    expect(seen.every((y) => !y)).toBe(true);
  });

  it('returns the items whose send rejected or threw, with their errors, after sending the rest', async () => {
    const sent: string[] = [];
    const failed = await sendInTurns(['a', 'b', 'c', 'd'], (item) => {
      if (item === 'b') throw new Error('no socket');
      if (item === 'c') return Promise.reject(new Error('closed'));
      sent.push(item);
      return Promise.resolve();
    });
    expect(sent).toEqual(['a', 'd']);
    expect(failed.map((f) => [f.item, f.err.message])).toEqual([['b', 'no socket'], ['c', 'closed']]);
  });
});

describe('nameSome', () => {
  it.each([
    [['a'], 'a'],
    [['a', 'b', 'c'], 'a, b, c'],
    [Array.from({ length: 12 }, (_, i) => `h${i}`), 'h0, h1, h2, h3, h4, h5, h6, h7, h8, h9 and 2 more'],
  ])('%j → %s', (names, text) => {
    expect(nameSome(names)).toBe(text);
  });
});
