import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTokenRequestSchema, postRunsRequestSchema, registerRequestSchema, streamMessageSchema } from '../../src/protocol/api.js';
import { isLabelKey } from '../../src/protocol/labels.js';
import { cpFrameSchema, daimonFrameSchema } from '../../src/protocol/tunnel.js';
import { parseHostSelector } from '../../src/protocol/host-selector.js';
import { budget, withinBound } from './budget.js';

const SCHEMAS = { daimonFrameSchema, cpFrameSchema, streamMessageSchema, registerRequestSchema, postRunsRequestSchema, createTokenRequestSchema };
const hex = (n: number): fc.Arbitrary<string> => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`));
const runId = fc.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/).map((s) => `r_${s}`);

// Frames a well-behaved daimon sends, generated field by field within their documented bounds.
const validDaimonFrame = fc.oneof(
  fc.record({
    type: fc.constant('hello' as const), protocol: fc.constant(1 as const), version: fc.string({ maxLength: 64 }), os: fc.string({ maxLength: 64 }), arch: fc.string({ maxLength: 64 }),
    labels: fc.dictionary(fc.stringMatching(/^[A-Za-z0-9._/-]{1,63}$/).filter(isLabelKey), fc.string({ maxLength: 256 }), { maxKeys: 5 }),
    running: fc.array(runId, { maxLength: 5 }), spool_depth: fc.nat(),
  }),
  fc.record({ type: fc.constant('heartbeat' as const), seq: fc.nat(), ts: fc.integer({ min: 0 }), running: fc.nat(), spool_depth: fc.nat() }),
  fc.record({ type: fc.constant('dispatch_ack' as const), run_id: runId, accepted: fc.boolean() }),
  fc.record({ type: fc.constant('error' as const), code: fc.stringMatching(/^OKS_ERR_[A-Z_]{1,30}$/), message: fc.string({ maxLength: 4096 }) }),
);

describe('wire schemas (property)', () => {
  it('no schema throws on any JSON value, and every refusal names an issue', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.entries(SCHEMAS)), fc.jsonValue({ maxDepth: 8 }), ([name, schema], value) => {
        const result = withinBound(name, () => schema.safeParse(value));
        if (!result.success) expect(result.error.issues.length).toBeGreaterThan(0);
      }),
      budget(2000),
    );
  });

  it('valid daimon frames round-trip through JSON and the schema unchanged', () => {
    fc.assert(
      fc.property(validDaimonFrame, (frame) => {
        const parsed = daimonFrameSchema.safeParse(JSON.parse(JSON.stringify(frame)));
        expect(parsed.success).toBe(true);
        expect(parsed.data).toEqual(frame);
      }),
      budget(500),
    );
  });

  it('valid run ids are accepted; anything else in a record key is refused', () => {
    fc.assert(
      fc.property(runId, hex(8), (id, junk) => {
        const ok = daimonFrameSchema.safeParse({ type: 'dispatch_ack', run_id: id, accepted: true });
        const bad = daimonFrameSchema.safeParse({ type: 'dispatch_ack', run_id: `${id}${junk}`, accepted: true });
        expect(ok.success).toBe(true);
        expect(bad.success).toBe(false);
      }),
      budget(300),
    );
  });

  it('host selectors: any text parses or is refused with a reason; a parsed label selector round-trips', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9._-]{0,20}$/), fc.stringMatching(/^[a-z0-9._-]{1,20}$/), { minKeys: 1, maxKeys: 4 }).map((l) => Object.entries(l).map(([k, v]) => `label:${k}=${v}`).join(','))), (text) => {
        const result = withinBound('parseHostSelector', () => parseHostSelector(text));
        if (!result.ok) expect(result.error.length).toBeGreaterThan(0);
      }),
      budget(1000),
    );
  });
});
