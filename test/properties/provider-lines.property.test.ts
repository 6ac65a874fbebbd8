import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventBodySchema, KNOWN_EVENT_TYPES } from '../../src/protocol/event.js';
import { LineSplitter } from '../../daimon/run/line-splitter.js';
import { RESERVED_EVENT_TYPES, stdoutLineToEvent } from '../../daimon/run/output-events.js';
import { budget, withinBound } from './budget.js';

const CAP = 512;

// What a custom provider's stdout can hold: any bytes, JSON objects close to events, and events with hostile fields.
const eventLike = fc.record(
  { type: fc.oneof(fc.constantFrom(...KNOWN_EVENT_TYPES, ...RESERVED_EVENT_TYPES, '', 'x'.repeat(300)), fc.string()), severity: fc.string(), title: fc.jsonValue({ maxDepth: 3 }), status: fc.string() },
  { requiredKeys: [] },
);
const line = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 2 * CAP }),
  fc.jsonValue({ maxDepth: 5 }).map((v) => JSON.stringify(v)),
  eventLike.map((v) => JSON.stringify(v)),
  fc.integer({ min: 1, max: 3000 }).map((d) => `{"type":"text","x":${'['.repeat(d)}${']'.repeat(d)}}`),
);
const stream = fc.array(line, { maxLength: 20 }).chain((lines) =>
  fc.tuple(fc.constant(Buffer.from(lines.join('\n'), 'utf8')), fc.array(fc.nat({ max: 4 * CAP }), { maxLength: 8 })),
);

describe('JSONL lines from custom providers (property)', () => {
  it('every line becomes a valid event, never a throw; reserved types are never passed through', () => {
    let lineNo = 0;
    fc.assert(
      fc.property(line, fc.boolean(), (text, truncated) => {
        const event = withinBound('stdoutLineToEvent', () => stdoutLineToEvent({ text, truncated }, ++lineNo));
        expect(eventBodySchema.safeParse(event).success).toBe(true);
        expect(RESERVED_EVENT_TYPES.has(event.type)).toBe(false);
        if (event['code'] === 'OKS_ERR_EVENT_INVALID' && event['raw'] !== undefined) expect(String(event['message'])).toMatch(/^stdout line \d+: /);
      }),
      budget(1000),
    );
  });

  it('the line splitter never exceeds its cap, never splits a character, and loses no short line, however the bytes are chunked', () => {
    fc.assert(
      fc.property(stream, ([bytes, cuts]) => {
        const splitter = new LineSplitter(CAP);
        const out = [];
        let at = 0;
        for (const cut of [...cuts].sort((a, b) => a - b)) {
          const end = Math.min(cut, bytes.length);
          if (end > at) out.push(...splitter.push(bytes.subarray(at, end)));
          at = Math.max(at, end);
        }
        out.push(...splitter.push(bytes.subarray(at)), ...splitter.end());
        for (const l of out) {
          expect(Buffer.byteLength(l.text, 'utf8')).toBeLessThanOrEqual(CAP);
          if (l.truncated) expect(l.text).not.toMatch(/\uFFFD$/u);
        }
        // Lines that fit come out exactly (as UTF-8 decodes them), in order.
        const expected = bytes.toString('utf8').split('\n').map((s) => s.replace(/\r$/, ''));
        const whole = out.filter((l) => !l.truncated).map((l) => l.text);
        const fitting = expected.filter((s) => Buffer.byteLength(s, 'utf8') <= CAP);
        if (!out.some((l) => l.truncated)) expect(whole).toEqual(fitting.length > 0 && fitting.at(-1) === '' ? fitting.slice(0, -1) : fitting);
      }),
      budget(500),
    );
  });
});
