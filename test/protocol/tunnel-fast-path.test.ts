import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cpFrameSchema } from '../../src/protocol/tunnel.js';
import { wellFormedAckFrame } from '../../src/protocol/tunnel-fast-path.js';

const RUN = 'r_01JD0000000000000000000000';

// The fast path answers only when cpFrameSchema would accept, and then with the schema's own data, keys in its order.
describe('wellFormedAckFrame', () => {
  const runId = fc.oneof(fc.constant(RUN), fc.constant('r_01jd0000000000000000000000'), fc.constant(`${RUN}0`), fc.string({ maxLength: 4 }), fc.integer());
  const seq = fc.oneof(fc.nat(), fc.constant(-1), fc.constant(1.5), fc.constant(2 ** 53), fc.constant('3'), fc.constant(null));
  const record = fc.oneof(
    fc.record({ run_id: runId, seq }),
    fc.record({ seq, run_id: runId }),
    fc.record({ run_id: runId, seq, extra: fc.nat() }, { requiredKeys: ['run_id'] }),
    fc.jsonValue({ maxDepth: 2 }),
  );
  const frame = fc.oneof(
    fc.record({ type: fc.constantFrom('ack', 'heartbeat_ack', 'Ack'), records: fc.array(record, { maxLength: 5 }) }),
    fc.record({ records: fc.array(record, { maxLength: 3 }), type: fc.constant('ack') }),
    fc.record({ type: fc.constant('ack'), records: fc.oneof(fc.array(record, { maxLength: 3 }), fc.jsonValue({ maxDepth: 1 })), seq: fc.nat() }, { requiredKeys: ['type'] }),
    fc.record({ type: fc.constant('ack'), records: fc.array(fc.record({ run_id: fc.constant(RUN), seq: fc.nat() }), { maxLength: 20 }) }),
  );
  it('answers with the schema\'s data or not at all', () => {
    let answered = 0;
    fc.assert(
      fc.property(frame, (raw) => {
        const value: unknown = JSON.parse(JSON.stringify(raw));
        const fast = wellFormedAckFrame(value);
        if (fast === undefined) return;
        answered++;
        const parsed = cpFrameSchema.safeParse(value);
        expect(parsed.success, JSON.stringify(value)).toBe(true);
        expect(fast).toStrictEqual(parsed.data);
        expect(JSON.stringify(fast)).toBe(JSON.stringify(parsed.data));
      }),
      { numRuns: 5000, seed: 23 },
    );
    expect(answered).toBeGreaterThan(500);
  });

  it.each([
    ['more records than a frame may hold', { type: 'ack', records: Array.from({ length: 1001 }, (_, seq) => ({ run_id: RUN, seq })) }],
    ['an extra key on a record', { type: 'ack', records: [{ run_id: RUN, seq: 1, x: 1 }] }],
    ['a bad run id', { type: 'ack', records: [{ run_id: 'r_x', seq: 1 }] }],
  ])('leaves %s to the schema', (_label, value) => {
    expect(wellFormedAckFrame(value)).toBeUndefined();
  });

  it('answers the frame the CP sends', () => {
    const value = { type: 'ack', records: [{ run_id: RUN, seq: 1 }, { run_id: RUN, seq: 2 }] };
    expect(wellFormedAckFrame(value)).toBe(value);
  });
});
