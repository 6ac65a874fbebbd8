import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRON_MACROS, cronCanMatch, nextCronTime, parseCron } from '../../src/specs/cron.js';
import type { CronSchedule } from '../../src/specs/cron.js';

/** Parses or fails the test with the parser's error. */
function cron(expr: string): CronSchedule {
  const r = parseCron(expr);
  if (!r.ok) expect.fail(`${expr}: ${r.error}`);
  return r.cron;
}

const utc = (iso: string): number => Date.parse(`${iso}Z`);
const iso = (ms: number): string => (Number.isNaN(ms) ? 'NaN' : new Date(ms).toISOString().slice(0, 16));
const nextUtc = (expr: string, from: string): string => iso(nextCronTime(cron(expr), utc(from), { utc: true }));

describe('parseCron', () => {
  it.each([
    ['*/20 * * * *', { minutes: [0, 20, 40] }],
    ['5-20/5 * * * *', { minutes: [5, 10, 15, 20] }],
    ['10/20 * * * *', { minutes: [10, 30, 50] }],
    ['1,3,1,2 * * * *', { minutes: [1, 2, 3] }],
    ['0 9-17/4 * * *', { hours: [9, 13, 17] }],
    ['0 0 * jan,Jul,DEC *', { months: [1, 7, 12] }],
    ['0 0 * feb-apr *', { months: [2, 3, 4] }],
    ['0 0 * * MON-FRI', { daysOfWeek: [1, 2, 3, 4, 5] }],
    ['0 0 * * 5-7', { daysOfWeek: [0, 5, 6] }],
    ['0 0 * * 7', { daysOfWeek: [0] }],
    ['0 0 * * sun,0,7', { daysOfWeek: [0] }],
    ['  0   0  *  *  *  ', { source: '0   0  *  *  *' }],
  ])('%s', (expr, fields) => {
    expect(cron(expr)).toMatchObject(fields);
  });

  it('records which day and hour fields lead with a star (Vixie semantics)', () => {
    expect(cron('0 0 * * 1')).toMatchObject({ dayOfMonthStar: true, dayOfWeekStar: false, hourStar: false });
    expect(cron('0 */2 */10 * *')).toMatchObject({ dayOfMonthStar: true, dayOfWeekStar: true, hourStar: true });
    expect(cron('0 0 1-31 * 1-5')).toMatchObject({ dayOfMonthStar: false, dayOfWeekStar: false });
  });

  it.each(Object.entries(CRON_MACROS))('%s is %s', (macro, fields) => {
    const { source: _macroSource, ...fromMacro } = cron(macro.toUpperCase());
    const { source: _fieldsSource, ...fromFields } = cron(fields);
    expect(fromMacro).toEqual(fromFields);
  });

  it.each([
    ['', 'expected 5 fields (minute hour day-of-month month day-of-week), got 0'],
    ['* * * *', 'expected 5 fields (minute hour day-of-month month day-of-week), got 4'],
    ['* * * * * *', 'expected 5 fields (minute hour day-of-month month day-of-week), got 6'],
    ['60 * * * *', 'minute: 60 is out of range 0-59'],
    ['-1 * * * *', 'minute: "-1" is not a number 0-59'],
    ['1.5 * * * *', 'minute: "1.5" is not a number 0-59'],
    ['JAN * * * *', 'minute: "JAN" is not a number 0-59'],
    ['5-2 * * * *', 'minute: range 5-2 is backwards (5 > 2)'],
    ['*/0 * * * *', 'minute: step 0 is out of range 1-60'],
    ['*/61 * * * *', 'minute: step 61 is out of range 1-60'],
    ['*/x * * * *', 'minute: step "x" is not a whole number'],
    ['1,,2 * * * *', 'minute: empty list item'],
    ['1/2/3 * * * *', 'minute: "1/2/3" has more than one /'],
    ['* 24 * * *', 'hour: 24 is out of range 0-23'],
    ['* 1-24 * * *', 'hour: 24 is out of range 0-23'],
    ['* * 0 * *', 'day-of-month: 0 is out of range 1-31'],
    ['* * 32 * *', 'day-of-month: 32 is out of range 1-31'],
    ['* * * 13 *', 'month: 13 is out of range 1-12'],
    ['* * * 0 *', 'month: 0 is out of range 1-12'],
    ['* * * FOO *', 'month: "FOO" is not a number 1-12 or a name JAN-DEC'],
    ['* * * * 8', 'day-of-week: 8 is out of range 0-7'],
    ['* * * * MONDAY', 'day-of-week: "MONDAY" is not a number 0-7 or a name SUN-SAT'],
    ['* * * * FRI-MON', 'day-of-week: range FRI-MON is backwards (5 > 1)'],
    ['@reboot', 'unknown macro "@reboot" (expected one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)'],
    [`${'1,'.repeat(600)}1 * * * *`, 'cron expression is longer than 1024 characters'],
  ])('rejects %j: %s', (expr, error) => {
    expect(parseCron(expr)).toEqual({ ok: false, error });
  });
});

describe('nextCronTime (UTC)', () => {
  it.each([
    ['* * * * *', '2024-01-01T00:00', '2024-01-01T00:01'],
    ['* * * * *', '2024-01-01T00:00:59.999', '2024-01-01T00:01'],
    ['*/15 * * * *', '2024-01-01T10:07', '2024-01-01T10:15'],
    ['*/15 * * * *', '2024-01-01T10:45', '2024-01-01T11:00'],
    ['5-20/5 * * * *', '2024-01-01T10:21', '2024-01-01T11:05'],
    ['10/20 * * * *', '2024-01-01T10:31', '2024-01-01T10:50'],
    ['0 */6 * * *', '2024-01-01T18:00', '2024-01-02T00:00'],
    ['59 23 31 12 *', '2023-12-31T23:59', '2024-12-31T23:59'],
    // month ends
    ['0 0 1 * *', '2024-01-31T12:00', '2024-02-01T00:00'],
    ['0 0 31 * *', '2024-01-31T00:00', '2024-03-31T00:00'],
    ['0 0 31 * *', '2024-03-31T00:00', '2024-05-31T00:00'],
    ['0 0 30 * *', '2023-01-30T00:00', '2023-03-30T00:00'],
    ['0 12 28-31 * *', '2023-02-28T12:00', '2023-03-28T12:00'],
    // leap days
    ['0 0 29 2 *', '2024-03-01T00:00', '2028-02-29T00:00'],
    ['0 0 29 2 *', '2023-06-01T00:00', '2024-02-29T00:00'],
    ['0 0 29 2 *', '2096-03-01T00:00', '2104-02-29T00:00'], // 2100 is not a leap year
    // day-of-week, names, 7 = Sunday
    ['0 9 * * MON-FRI', '2024-01-05T10:00', '2024-01-08T09:00'],
    ['0 0 * * 7', '2024-01-01T00:00', '2024-01-07T00:00'],
    ['0 0 * * sun', '2024-01-01T00:00', '2024-01-07T00:00'],
    ['0 12 1 jan,Jul *', '2024-02-01T00:00', '2024-07-01T12:00'],
    // both day fields restricted: either matches (2024-01-05 and -12 are Fridays, the 13th a Saturday)
    ['0 0 13 * FRI', '2024-01-01T00:00', '2024-01-05T00:00'],
    ['0 0 13 * FRI', '2024-01-12T00:00', '2024-01-13T00:00'],
    ['0 0 13 * FRI', '2024-01-13T00:00', '2024-01-19T00:00'],
    ['0 0 31 2 1', '2024-01-31T00:00', '2024-02-05T00:00'],
    // a star-led day-of-month does not restrict: both must match (the 1st, 11th, 21st or 31st on a Monday)
    ['0 0 */10 * MON', '2023-12-31T00:00', '2024-01-01T00:00'],
    ['0 0 */10 * MON', '2024-01-01T00:00', '2024-03-11T00:00'],
    // macros
    ['@hourly', '2024-01-01T10:30', '2024-01-01T11:00'],
    ['@daily', '2024-01-01T10:30', '2024-01-02T00:00'],
    ['@midnight', '2024-01-01T00:00', '2024-01-02T00:00'],
    ['@weekly', '2024-01-01T10:30', '2024-01-07T00:00'],
    ['@monthly', '2024-01-01T00:00', '2024-02-01T00:00'],
    ['@yearly', '2024-01-01T00:00', '2025-01-01T00:00'],
    ['@annually', '2023-07-04T00:00', '2024-01-01T00:00'],
  ])('%s after %s → %s', (expr, from, expected) => {
    expect(nextUtc(expr, from)).toBe(expected);
  });

  it.each(['0 0 31 2 *', '0 0 30 2 *', '0 0 30,31 2 *', '0 0 31 4,6,9,11 *', '* * 31 feb,apr *'])('%s never matches: NaN, at once', (expr) => {
    const c = cron(expr);
    expect(cronCanMatch(c)).toBe(false);
    const started = performance.now();
    expect(nextCronTime(c, utc('2024-01-01T00:00'), { utc: true })).toBeNaN();
    expect(nextCronTime(c, utc('2024-01-01T00:00'))).toBeNaN();
    expect(performance.now() - started).toBeLessThan(50);
  });

  it('returns NaN for a time that is not finite', () => {
    expect(nextCronTime(cron('* * * * *'), Number.NaN)).toBeNaN();
    expect(nextCronTime(cron('* * * * *'), Number.POSITIVE_INFINITY)).toBeNaN();
  });

  it('skips by field: a rare date years away takes few steps', () => {
    // 1 Feb on a Monday with a star-led day-of-month (AND): 2027, then 2038.
    const c = cron('0 0 */28 2 MON');
    const started = performance.now();
    expect(iso(nextCronTime(c, utc('2027-02-02T00:00'), { utc: true }))).toBe('2038-02-01T00:00');
    expect(performance.now() - started).toBeLessThan(50);
  });

  // A reference matcher walking every minute: slow, obviously right, independent of the field skipping.
  function matchesUtc(c: CronSchedule, t: number): boolean {
    const d = new Date(t);
    const dom = c.daysOfMonth.includes(d.getUTCDate());
    const dow = c.daysOfWeek.includes(d.getUTCDay());
    const day = c.dayOfMonthStar || c.dayOfWeekStar ? dom && dow : dom || dow;
    return c.minutes.includes(d.getUTCMinutes()) && c.hours.includes(d.getUTCHours()) && c.months.includes(d.getUTCMonth() + 1) && day;
  }

  it.each([
    '7,37 */5 * * *',
    '0 0 1,15 * 3',
    '*/7 3-9/2 */3 * SAT',
    '45 23 28-31 * *',
    '0 12 * FEB-MAR MON,FRI',
    '30 6 29 2 *',
    '0 0 10-12 * 0',
  ])('%s agrees with a minute-by-minute walk over 62 days', (expr) => {
    const c = cron(expr);
    const from = utc('2024-01-15T13:17');
    const until = from + 62 * 86_400_000;
    const expected: string[] = [];
    for (let t = from + 60_000 - (from % 60_000); t <= until; t += 60_000) if (matchesUtc(c, t)) expected.push(iso(t));
    const got: string[] = [];
    for (let t = nextCronTime(c, from, { utc: true }); t <= until; t = nextCronTime(c, t, { utc: true })) got.push(iso(t));
    expect(got).toEqual(expected);
  });
});

/** Runs the enclosing describe's tests with the local time zone set to `tz` (Node re-reads TZ when it is set). */
function inTimeZone(tz: string): void {
  const saved = process.env.TZ;
  beforeAll(() => {
    process.env.TZ = tz;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  });
}

const nextLocal = (expr: string, fromUtc: string): string => iso(nextCronTime(cron(expr), utc(fromUtc)));

describe('nextCronTime in local time: Europe/Berlin (DST 2024-03-31 02:00→03:00, 2024-10-27 03:00→02:00)', () => {
  inTimeZone('Europe/Berlin');

  it('runs in Berlin time', () => {
    expect(new Date(2024, 0, 1).getTimezoneOffset()).toBe(-60);
    expect(new Date(2024, 6, 1).getTimezoneOffset()).toBe(-120);
  });

  it.each([
    // 10:00 Berlin is 09:00Z in winter, 08:00Z in summer
    ['0 10 * * *', '2024-01-10T12:00', '2024-01-11T09:00'],
    ['0 10 * * *', '2024-07-10T12:00', '2024-07-11T08:00'],
    // spring forward: 02:30 does not exist on 31 March and is skipped, not moved
    ['30 2 * * *', '2024-03-30T12:00', '2024-04-01T00:30'],
    ['0 3 * * *', '2024-03-30T12:00', '2024-03-31T01:00'],
    ['*/30 * * * *', '2024-03-31T00:30', '2024-03-31T01:00'],
    // fall back: a fixed time in the repeated hour fires once, at its first occurrence
    ['30 2 * * *', '2024-10-26T12:00', '2024-10-27T00:30'],
    ['30 2 * * *', '2024-10-27T00:30', '2024-10-28T01:30'],
    ['* 2 * * *', '2024-10-27T00:59', '2024-10-28T01:00'],
    // …while star-hour schedules keep going through it
    ['*/30 * * * *', '2024-10-27T00:30', '2024-10-27T01:00'],
    ['*/30 * * * *', '2024-10-27T01:00', '2024-10-27T01:30'],
    ['*/30 * * * *', '2024-10-27T01:30', '2024-10-27T02:00'],
    ['@hourly', '2024-10-27T00:00', '2024-10-27T01:00'],
    // across the month end in local time: 1 April 00:00 CEST is 31 March 22:00Z
    ['@monthly', '2024-03-15T00:00', '2024-03-31T22:00'],
  ])('%s after %sZ → %sZ', (expr, from, expected) => {
    expect(nextLocal(expr, from)).toBe(expected);
  });

  it('utc: true ignores the local zone', () => {
    expect(iso(nextCronTime(cron('@daily'), utc('2024-03-31T00:30'), { utc: true }))).toBe('2024-04-01T00:00');
  });
});

describe('nextCronTime in local time: America/Santiago (DST starts at midnight: 2024-09-08 00:00→01:00)', () => {
  inTimeZone('America/Santiago');

  it.each([
    // midnight does not exist on 8 September: that day's @daily is skipped
    ['@daily', '2024-09-07T04:00', '2024-09-09T03:00'],
    ['0 1 * * *', '2024-09-07T06:00', '2024-09-08T04:00'],
    // 6 April 23:xx happens twice (-03 then -04): the fixed time fires once, the star-hour one twice
    ['30 23 * * *', '2024-04-07T02:30', '2024-04-08T03:30'],
    ['30 * * * *', '2024-04-07T02:30', '2024-04-07T03:30'],
  ])('%s after %sZ → %sZ', (expr, from, expected) => {
    expect(nextLocal(expr, from)).toBe(expected);
  });
});
