/**
 * Five-field cron expressions (minute hour day-of-month month day-of-week), Vixie cron flavour.
 * Pure: no timers, no IO. Used by the daimon's tick scheduler and, later, the CP's orchestration triggers.
 *
 * Time zones: `nextCronTime` matches the local wall clock by default (`utc: true` for UTC).
 * - A wall-clock time that does not exist (the hour skipped when DST starts) is skipped, not moved.
 * - A wall-clock time that happens twice (the hour repeated when DST ends) fires once, at its first
 *   occurrence — unless the hour field starts with `*` (every-few-minutes schedules, `@hourly`): those keep
 *   firing through the repeated hour, as in Vixie cron, so a monitor does not go quiet for an hour.
 * - A schedule that can never match (`0 0 31 2 *`) makes `nextCronTime` return NaN at once.
 */

/** A parsed cron expression: the matching values of each field, sorted ascending. */
export interface CronSchedule {
  /** The expression as written, trimmed (a macro stays a macro). */
  source: string;
  /** 0-59. */
  minutes: readonly number[];
  /** 0-23. */
  hours: readonly number[];
  /** 1-31. */
  daysOfMonth: readonly number[];
  /** 1-12. */
  months: readonly number[];
  /** 0-6, 0 = Sunday (7 is folded into 0). */
  daysOfWeek: readonly number[];
  /** Day-of-month was written starting with `*`: it does not restrict on its own (Vixie's DOM_STAR). */
  dayOfMonthStar: boolean;
  /** Day-of-week was written starting with `*` (Vixie's DOW_STAR). */
  dayOfWeekStar: boolean;
  /** Hour was written starting with `*`: keeps firing through a repeated DST hour. */
  hourStar: boolean;
}

/** The result of `parseCron`: the schedule, or one error naming the field and what is wrong with it. */
export type CronParseResult = { ok: true; cron: CronSchedule } | { ok: false; error: string };

/** The macros `parseCron` accepts and the five fields each stands for. */
export const CRON_MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

interface FieldDef {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const FIELDS: readonly FieldDef[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTH_NAMES },
  // 7 is Sunday too; folded into 0 after parsing.
  { name: 'day-of-week', min: 0, max: 7, names: DAY_NAMES },
];

const MAX_EXPRESSION_LENGTH = 1024;

class FieldError extends Error {}

/** Parses one value: a number or (for month and day-of-week) a three-letter name. */
function parseValue(text: string, def: FieldDef): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < def.min || n > def.max) throw new FieldError(`${text} is out of range ${def.min}-${def.max}`);
    return n;
  }
  const index = def.names?.indexOf(text.toUpperCase()) ?? -1;
  if (def.names && index >= 0) return def.name === 'month' ? index + 1 : index;
  const hint = def.names ? `a number ${def.min}-${def.max} or a name ${def.names[0]}-${def.names[def.names.length - 1]}` : `a number ${def.min}-${def.max}`;
  throw new FieldError(`${JSON.stringify(text)} is not ${hint}`);
}

/** Parses one list item: `*`, `v`, `a-b`, each optionally `/step` (`v/step` means `v-max/step`). */
function parseItem(item: string, def: FieldDef, into: Set<number>): void {
  if (item === '') throw new FieldError('empty list item');
  const [base = '', step, extra] = item.split('/');
  if (extra !== undefined) throw new FieldError(`${JSON.stringify(item)} has more than one /`);
  let lo: number;
  let hi: number;
  if (base === '*') {
    lo = def.min;
    hi = def.max;
  } else {
    const dash = base.indexOf('-', 1); // a leading '-' is a bad value, not a range
    if (dash < 0) {
      lo = parseValue(base, def);
      hi = step === undefined ? lo : def.max;
    } else {
      lo = parseValue(base.slice(0, dash), def);
      hi = parseValue(base.slice(dash + 1), def);
      if (lo > hi) throw new FieldError(`range ${base} is backwards (${lo} > ${hi})`);
    }
  }
  let by = 1;
  if (step !== undefined) {
    const span = def.max - def.min + 1;
    if (!/^\d+$/.test(step)) throw new FieldError(`step ${JSON.stringify(step)} is not a whole number`);
    by = Number(step);
    if (by < 1 || by > span) throw new FieldError(`step ${step} is out of range 1-${span}`);
  }
  for (let v = lo; v <= hi; v += by) into.add(v);
}

/** Parses one field into its sorted values. */
function parseField(text: string, def: FieldDef): number[] {
  const values = new Set<number>();
  for (const item of text.split(',')) parseItem(item, def, values);
  return [...values].sort((a, b) => a - b);
}

/** Parses a five-field cron expression or a macro (@hourly, @daily, …); never throws. */
export function parseCron(expr: string): CronParseResult {
  const source = expr.trim();
  if (source.length > MAX_EXPRESSION_LENGTH) return { ok: false, error: `cron expression is longer than ${MAX_EXPRESSION_LENGTH} characters` };
  let text = source;
  if (source.startsWith('@')) {
    const macro = CRON_MACROS[source.toLowerCase()];
    if (macro === undefined) return { ok: false, error: `unknown macro ${JSON.stringify(source)} (expected one of ${Object.keys(CRON_MACROS).join(', ')})` };
    text = macro;
  }
  const parts = text === '' ? [] : text.split(/\s+/);
  if (parts.length !== FIELDS.length) {
    return { ok: false, error: `expected 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}` };
  }
  const values: number[][] = [];
  for (const [i, def] of FIELDS.entries()) {
    try {
      values.push(parseField(parts[i] as string, def));
    } catch (err) {
      if (err instanceof FieldError) return { ok: false, error: `${def.name}: ${err.message}` };
      throw err;
    }
  }
  const [minutes = [], hours = [], daysOfMonth = [], months = [], rawDaysOfWeek = []] = values;
  const daysOfWeek = [...new Set(rawDaysOfWeek.map((d) => d % 7))].sort((a, b) => a - b);
  return {
    ok: true,
    cron: {
      source,
      minutes,
      hours,
      daysOfMonth,
      months,
      daysOfWeek,
      hourStar: (parts[1] as string).startsWith('*'),
      dayOfMonthStar: (parts[2] as string).startsWith('*'),
      dayOfWeekStar: (parts[4] as string).startsWith('*'),
    },
  };
}

const MINUTE_MS = 60_000;
// Days in each month of a leap year: a leap day counts as possible.
const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
// A matchable schedule matches well within this (the 1st of a month recurs on a given weekday within
// 11 years, a leap day within 8); the bound only guards the loop.
const HORIZON_YEARS = 30;

/** Whether any day can ever match: false for e.g. `0 0 31 2 *` or `0 0 30 2,4 *`. */
export function cronCanMatch(cron: CronSchedule): boolean {
  // Both day fields restricted: either matches, and every weekday occurs in every month. A star-led
  // day-of-month always includes the 1st, which falls on every weekday over the years.
  if (cron.dayOfMonthStar || !cron.dayOfWeekStar) return true;
  return cron.months.some((m) => cron.daysOfMonth.some((d) => d <= (MONTH_DAYS[m - 1] as number)));
}

interface Civil {
  year: number;
  /** 0-11, as Date has it. */
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: number;
}

function civil(t: number, utc: boolean): Civil {
  const d = new Date(t);
  return utc
    ? { year: d.getUTCFullYear(), month: d.getUTCMonth(), day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), weekday: d.getUTCDay() }
    : { year: d.getFullYear(), month: d.getMonth(), day: d.getDate(), hour: d.getHours(), minute: d.getMinutes(), weekday: d.getDay() };
}

/** The instant of a wall-clock time; Date resolves a skipped time forward and a repeated one to its first occurrence. */
function epoch(year: number, month: number, day: number, hour: number, minute: number, utc: boolean): number {
  return utc ? Date.UTC(year, month, day, hour, minute) : new Date(year, month, day, hour, minute).getTime();
}

function mask(values: readonly number[], size: number): boolean[] {
  const m = new Array<boolean>(size).fill(false);
  for (const v of values) m[v] = true;
  return m;
}

/**
 * The first minute matching `cron` strictly after `afterMs` (epoch ms, seconds zeroed), on the local
 * wall clock unless `utc`. Returns NaN when the schedule can never match or `afterMs` is not finite.
 * Skips by field (month, day, hour, minute), never minute by minute over long spans.
 */
export function nextCronTime(cron: CronSchedule, afterMs: number, options: { utc?: boolean } = {}): number {
  const utc = options.utc === true;
  if (!Number.isFinite(afterMs) || !cronCanMatch(cron)) return NaN;
  const months = mask(cron.months, 13);
  const doms = mask(cron.daysOfMonth, 32);
  const dows = mask(cron.daysOfWeek, 7);
  const hours = mask(cron.hours, 24);
  const either = !cron.dayOfMonthStar && !cron.dayOfWeekStar;
  const dayMatches = (c: Civil): boolean =>
    either ? doms[c.day] === true || dows[c.weekday] === true : doms[c.day] === true && dows[c.weekday] === true;
  // Where a wall-clock jump lands at or before `t` (a repeated hour around midnight), step to the next hour instead.
  const forward = (target: number, t: number, c: Civil): number => (target > t ? target : t + (60 - c.minute) * MINUTE_MS);

  let t = Math.floor(afterMs / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  const lastYear = civil(t, utc).year + HORIZON_YEARS;
  for (;;) {
    if (Number.isNaN(t)) return NaN; // ran off the end of Date's range
    const c = civil(t, utc);
    if (c.year > lastYear) return NaN;
    if (!months[c.month + 1]) {
      const next = cron.months.find((m) => m > c.month + 1);
      const target = next === undefined ? epoch(c.year + 1, (cron.months[0] as number) - 1, 1, 0, 0, utc) : epoch(c.year, next - 1, 1, 0, 0, utc);
      t = forward(target, t, c);
      continue;
    }
    if (!dayMatches(c)) {
      t = forward(epoch(c.year, c.month, c.day + 1, 0, 0, utc), t, c);
      continue;
    }
    if (!hours[c.hour]) {
      const next = cron.hours.find((h) => h > c.hour);
      t = forward(epoch(c.year, c.month, c.day + (next === undefined ? 1 : 0), next ?? 0, 0, utc), t, c);
      continue;
    }
    // Minutes move by absolute time, so a repeated hour is walked through rather than jumped over.
    const minute = cron.minutes.find((m) => m >= c.minute);
    if (minute === undefined) {
      t += (60 - c.minute) * MINUTE_MS;
      continue;
    }
    if (minute > c.minute) {
      t += (minute - c.minute) * MINUTE_MS;
      continue;
    }
    // The second occurrence of a repeated wall-clock time fires only for star-hour schedules.
    if (!utc && !cron.hourStar && epoch(c.year, c.month, c.day, c.hour, c.minute, false) !== t) {
      t += MINUTE_MS;
      continue;
    }
    return t;
  }
}
