import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventBodySchema, findingEventSchema } from '../../src/protocol/event.js';
import { findingEventHolds, wellFormedEventBody } from '../../src/protocol/event-fast-path.js';
import { seededPick } from '../support/seeded-pick.js';

// The fast paths answer only when the schema would accept, and then with the schema's own data (same keys, same order).
const CHOICES: Record<string, unknown[]> = {
  severity: ['HIGH', 'INFO', 'high', 'low', ' LOW', 'Medium ', 'ınfo', 'SEVERE', '', 3, null],
  title: ['Suspicious process 4', ' padded ', '', '   ', 'x'.repeat(120), ` ${'x'.repeat(120)} `, 'x'.repeat(121), '\u00a0nbsp', 7, null],
  category: ['process', 'Network', ' file ', 'weird', '', null, 1],
  resource: ['', 'binary:/usr/bin/x', 'r'.repeat(2048), 'r'.repeat(2049), 5, null],
  evidence: [[], ['pid 1', 'cmdline x'], 'a\nb', '', 'e'.repeat(64 * 1024), 'e'.repeat(64 * 1024 + 1), ['e'.repeat(16 * 1024 + 1)], Array(500).fill('x'), Array(501).fill('x'), [1], null, {}],
  dedup_key: ['', 'k', 'k'.repeat(512), 'k'.repeat(513), false, null],
  recommended_action: ['kill it', 'a'.repeat(4096), 'a'.repeat(4097), 1, null],
  tags: [[], ['bench'], Array(64).fill('t'), Array(65).fill('t'), ['t'.repeat(128)], ['t'.repeat(129)], 'bench', [null]],
  attributes: [{}, { i: 1, emitted_at: 1.5 }, { nested: { a: [1, 2] } }, [], null, 'x', JSON.parse('{"__proto__":{"a":1}}'), JSON.parse('{"constructor":1}')],
};

const keysOf = (v: unknown): string[] => Object.keys(v as object);

describe('findingEventHolds', () => {
  it('holds only where findingEventSchema accepts (10,000 findings)', () => {
    const pick = seededPick(11);
    let held = 0;
    let accepted = 0;
    for (let i = 0; i < 10_000; i++) {
      const event: Record<string, unknown> = { type: 'finding' };
      // Mostly the first (valid) choice of each field, so that many findings are acceptable.
      for (const [k, xs] of Object.entries(CHOICES)) if (pick([true, true, false])) event[k] = pick([true, true, true, false]) ? xs[0] : pick(xs);
      // Round-trip through JSON: a daimon only ever checks parsed lines.
      const body = JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
      const ok = findingEventSchema.safeParse(body).success;
      const holds = findingEventHolds(body);
      if (holds) expect(ok, JSON.stringify(body)).toBe(true);
      if (holds) held++;
      if (ok) accepted++;
    }
    // It must also be a fast path: most findings the schema accepts are answered by it.
    expect(held).toBeGreaterThan(accepted * 0.8);
    expect(held).toBeGreaterThan(100);
  });

  it('holds for the benchmark agent\'s finding, not for other types', () => {
    const finding = { type: 'finding', severity: 'low', category: 'other', title: 'steady finding', resource: 'item:1', dedup_key: 'k', attributes: { i: 1, emitted_at: 2.5 } };
    expect(findingEventHolds(finding)).toBe(true);
    expect(findingEventHolds({ ...finding, type: 'text' })).toBe(false);
  });
});

describe('wellFormedEventBody', () => {
  const objects = fc.oneof(
    fc.dictionary(fc.oneof(fc.constantFrom('type', 'text', '__proto__', '0', '10', 'constructor'), fc.string({ maxLength: 4 })), fc.jsonValue({ maxDepth: 3 })),
    fc.record({ type: fc.oneof(fc.constantFrom('finding', 'text', 'tool_call', 'x'.repeat(64), 'x'.repeat(65), 'Not_ok', '', '9a'), fc.string({ maxLength: 6 })), text: fc.string(), n: fc.jsonValue({ maxDepth: 4 }) }, { requiredKeys: ['type'] }),
  );
  it('answers with the schema\'s data, keys in its order, or not at all', () => {
    let answered = 0;
    fc.assert(
      fc.property(objects, (raw) => {
        const value: unknown = JSON.parse(JSON.stringify(raw));
        const parsed = eventBodySchema.safeParse(value);
        const fast = wellFormedEventBody(value);
        if (fast === undefined) return;
        answered++;
        expect(parsed.success, JSON.stringify(value)).toBe(true);
        expect(fast).toStrictEqual(parsed.data);
        expect(keysOf(fast)).toEqual(keysOf(parsed.data));
      }),
      { numRuns: 5000, seed: 17 },
    );
    expect(answered).toBeGreaterThan(500);
  });

  it.each([
    ['type not first', '{"a":1,"type":"text"}'],
    ['an own __proto__ key', '{"type":"text","__proto__":{"x":1}}'],
    ['an integer key (ordered first)', '{"type":"text","1":2}'],
    ['too deep', `{"type":"text","x":${'['.repeat(70)}${']'.repeat(70)}}`],
    ['a bad type', '{"type":"Text"}'],
  ])('leaves %s to the schema', (_label, text) => {
    expect(wellFormedEventBody(JSON.parse(text))).toBeUndefined();
  });
});
