import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inputsSchema } from '../../src/protocol/dispatch.js';
import { eventBodySchema } from '../../src/protocol/event.js';
import { MAX_JSON_DEPTH, isNestingTooDeep, nestsDeeperThan } from '../../src/protocol/json-value.js';
import { daimonFrameSchema } from '../../src/protocol/tunnel.js';

/** `{a: {a: … leaf}}` with `depth` objects. */
const nestedObject = (depth: number, leaf: unknown = 1): unknown => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
};
/** `[[… leaf]]` with `depth` arrays. */
const nestedArray = (depth: number, leaf: unknown = 1): unknown => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
};

/** Depth by the definition, recursively: only for small generated values. */
const depthOf = (v: unknown): number =>
  v === null || typeof v !== 'object' ? 0 : 1 + Math.max(0, ...(Array.isArray(v) ? v : Object.values(v)).map(depthOf));

describe('nestsDeeperThan', () => {
  it.each([
    ['a scalar', 1, 0, false],
    ['null', null, 0, false],
    ['{}', {}, 1, false],
    ['{} at limit 0', {}, 0, true],
    ['64 objects', nestedObject(64), MAX_JSON_DEPTH, false],
    ['65 objects', nestedObject(65), MAX_JSON_DEPTH, true],
    ['64 arrays', nestedArray(64), MAX_JSON_DEPTH, false],
    ['65 arrays', nestedArray(65), MAX_JSON_DEPTH, true],
    ['a deep branch beside shallow ones', { a: 1, b: [1, 2], c: nestedObject(64) }, MAX_JSON_DEPTH, true],
  ])('%s (limit %#)', (_name, value, limit, deeper) => {
    expect(nestsDeeperThan(value, limit)).toBe(deeper);
  });

  it('measures 200,000 levels without recursion (what JSON.parse hands over from a 400 kB body)', () => {
    const value: unknown = JSON.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`);
    expect(() => JSON.stringify(value)).toThrow(RangeError);
    expect(nestsDeeperThan(value)).toBe(true);
  });

  it('agrees with the recursive definition on any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 0, max: 9 }), (value, limit) => {
        expect(nestsDeeperThan(value, limit)).toBe(depthOf(value) > limit);
      }),
    );
  });
});

describe('bounded free-form JSON in the wire schemas', () => {
  it('run inputs: 64 levels pass, 65 are refused with a nesting issue at the field', () => {
    expect(inputsSchema.safeParse({ x: nestedObject(63) }).success).toBe(true);
    const parsed = inputsSchema.safeParse({ x: nestedObject(64) });
    expect(parsed.success).toBe(false);
    if (!parsed.success) {
      expect(isNestingTooDeep(parsed.error)).toBe(true);
      expect(parsed.error.issues[0]?.message).toMatch(/more than 64 levels/);
    }
  });

  it('event bodies and tunnel event records: a 5,000-deep payload is a nesting issue naming the record', () => {
    expect(eventBodySchema.safeParse({ type: 'text', payload: nestedArray(5000) }).success).toBe(false);
    const frame = { type: 'events', records: [{ run_id: `r_${'0'.repeat(26)}`, seq: 1, event: { type: 'text', ts: 1, agent: 'edr', payload: nestedObject(5000) } }] };
    const parsed = daimonFrameSchema.safeParse(frame);
    expect(parsed.success).toBe(false);
    if (!parsed.success) {
      expect(isNestingTooDeep(parsed.error)).toBe(true);
      expect(parsed.error.issues[0]?.path).toEqual(['records', 0, 'event']);
    }
  });

  it('another refusal is not a nesting issue', () => {
    const parsed = inputsSchema.safeParse({ ['k'.repeat(200)]: 1 });
    expect(parsed.success).toBe(false);
    if (!parsed.success) expect(isNestingTooDeep(parsed.error)).toBe(false);
  });
});
