import { describe, expect, it } from 'vitest';
import { streamMessageSchema } from '../../src/protocol/api.js';
import { wellFormedFindingMessage } from '../../src/protocol/stream-fast-path.js';

// The fast path answers only where streamMessageSchema accepts, and then with its very data (keys in its order).
const CHOICES: Record<string, unknown[]> = {
  severity: ['HIGH', 'INFO', 'high', ' LOW', 'SEVERE', 3],
  title: ['Suspicious process 4', ' padded ', '', 'x'.repeat(120), 'x'.repeat(121), 7],
  category: ['process', 'Network', 'weird', null],
  resource: ['', 'binary:/usr/bin/x', 'r'.repeat(2049), 5],
  evidence: [[], ['pid 1', 'cmdline x'], 'a\nb', ['e'.repeat(16 * 1024 + 1)], Array(501).fill('x'), [1]],
  dedup_key: ['', 'k', 'k'.repeat(513), false],
  recommended_action: ['kill it', 'a'.repeat(4097), 1, null],
  tags: [[], ['bench'], Array(65).fill('t'), ['t'.repeat(129)], 'bench'],
  attributes: [{}, { i: 1, emitted_at: 2.5 }, { nested: { a: [1] } }, [], null, JSON.parse('{"__proto__":{"a":1}}')],
  id: [1, 2 ** 53, 1.5, '1'],
  fingerprint: ['fp', 3],
  host: ['web-1', null],
  agent: ['a', 1],
  agent_version: ['1.0.0', '', 2],
  run_id: ['r_01JD0000000000000000000000', 5],
  seq: [1, -1, 0.5],
  ts: [1.5, '1'],
  received_at: [2, null],
  status: ['open', 'resolved', 'gone'],
  indicators: [[], ['ioc'], [1], 'x'],
  extra: ['stripped'],
};
const REQUIRED = new Set(['severity', 'title', 'id', 'fingerprint', 'host', 'agent', 'agent_version', 'run_id', 'seq', 'ts', 'received_at', 'status']);

describe('wellFormedFindingMessage', () => {
  it('answers with the schema\'s data or not at all (10,000 messages)', () => {
    let seed = 3;
    // mulberry32: a seeded generator whose every bit is usable (an LCG in doubles loses its low bits).
    const pick = <T>(xs: T[]): T => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return xs[((t ^ (t >>> 14)) >>> 0) % xs.length] as T;
    };
    let answered = 0;
    let accepted = 0;
    for (let i = 0; i < 10_000; i++) {
      const finding: Record<string, unknown> = {};
      // The CP's own order first (id, fingerprint, …), so the schema's reordering is exercised.
      for (const k of ['id', 'fingerprint', ...Object.keys(CHOICES)]) {
        const xs = CHOICES[k] as unknown[];
        // Mostly the first (valid, normal) choice, so that many messages are acceptable.
        const v = pick([true, true, true, false]) ? xs[0] : pick(xs);
        if (REQUIRED.has(k) || pick([true, true, false])) finding[k] = v;
      }
      const msg = JSON.parse(JSON.stringify({ type: pick(['finding', 'finding', 'host']), cursor: pick([5, 5.5, '5']), finding, other: 1 })) as unknown;
      const parsed = streamMessageSchema.safeParse(msg);
      const fast = wellFormedFindingMessage(msg);
      if (parsed.success) accepted++;
      if (fast === undefined) continue;
      answered++;
      expect(parsed.success, JSON.stringify(msg)).toBe(true);
      expect(fast).toStrictEqual(parsed.data);
      expect(JSON.stringify(fast)).toBe(JSON.stringify(parsed.data));
    }
    expect(answered).toBeGreaterThan(accepted * 0.5);
    expect(answered).toBeGreaterThan(200);
  });
});
