import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cronCanMatch, nextCronTime, parseCron } from '../../src/specs/cron.js';
import { budget, withinBound } from './budget.js';

const fieldPiece = fc.constantFrom('*', '*/5', '0', '1-5', '1,2,3', 'MON-FRI', 'JAN', '7', '60', '-1', '5/0', '1-', ',', '?', 'L', '#', '99999999999999999999', '*/', ' ');
const cronText = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.array(fieldPiece, { minLength: 0, maxLength: 7 }).map((f) => f.join(' ')),
  fc.constantFrom('@daily', '@hourly', '@weekly', '@reboot', '@', '@@daily'),
);

// Valid five-field expressions, each field a list of values, ranges or steps within its bounds.
const field = (min: number, max: number): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constant('*'),
    fc.integer({ min: 1, max: max - min + 1 }).map((step) => `*/${step}`),
    fc.uniqueArray(fc.integer({ min, max }), { minLength: 1, maxLength: 4 }).map((v) => v.join(',')),
    fc.tuple(fc.integer({ min, max }), fc.integer({ min, max })).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
  );
const validCron = fc.tuple(field(0, 59), field(0, 23), field(1, 28), field(1, 12), field(0, 6)).map((f) => f.join(' '));

describe('cron expressions (property)', () => {
  it('parseCron never throws, is bounded, and names the field it refuses', () => {
    fc.assert(
      fc.property(cronText, (text) => {
        const result = withinBound('parseCron', () => parseCron(text));
        if (!result.ok) expect(result.error.length).toBeGreaterThan(0);
      }),
      budget(1000),
    );
  });

  it('valid expressions parse and their next time is later, whole-minute and within a year or so', () => {
    fc.assert(
      fc.property(validCron, fc.integer({ min: 0, max: 4_000_000_000_000 }), (text, after) => {
        const result = parseCron(text);
        expect(result.ok, text).toBe(true);
        if (!result.ok || !cronCanMatch(result.cron)) return;
        const next = withinBound('nextCronTime', () => nextCronTime(result.cron, after, { utc: true }));
        expect(next).toBeGreaterThan(after);
        expect(next % 60_000).toBe(0);
        const when = new Date(next);
        expect(result.cron.minutes).toContain(when.getUTCMinutes());
        expect(result.cron.hours).toContain(when.getUTCHours());
        expect(result.cron.months).toContain(when.getUTCMonth() + 1);
      }),
      budget(300),
    );
  });
});
