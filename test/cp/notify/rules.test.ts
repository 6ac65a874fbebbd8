import { describe, expect, it } from 'vitest';
import { matchesRules, quietUntil } from '../../../src/cp/notify/rules.js';
import { retryDelay } from '../../../src/cp/notify/delivery-worker.js';
import { notifyRulesSchema, parseQuietRange, quietPeriodSchema } from '../../../src/protocol/notify-api.js';
import type { StoredFinding } from '../../../src/protocol/finding.js';

const finding = (over: Partial<StoredFinding> = {}): StoredFinding => ({
  id: 1, fingerprint: 'f', host: 'web-01', agent: 'edr', agent_version: '1', run_id: 'r', seq: 1, ts: 0, received_at: 0, status: 'open',
  severity: 'HIGH', title: 't', category: 'process', resource: '', evidence: [], dedup_key: '', tags: [], attributes: {}, indicators: [], ...over,
});
const utc = (hhmm: string): number => Date.parse(`2026-03-10T${hhmm}:30.000Z`);

describe('notify rules', () => {
  it.each([
    [{}, {}, {}, true],
    [{}, { severity: 'MEDIUM' as const }, {}, false],
    [{ min_severity: 'medium' }, { severity: 'MEDIUM' as const }, {}, true],
    [{ agents: ['e*'] }, {}, {}, true],
    [{ agents: ['x*', 'ed?'] }, {}, {}, true],
    [{ hosts: ['db-*'] }, {}, {}, false],
    [{ categories: ['network'] }, {}, {}, false],
    [{ labels: { env: 'prod' } }, {}, { env: 'prod' }, true],
    [{ labels: { env: 'prod' } }, {}, {}, false],
  ])('rules %j take %j on a host labelled %j: %s', (rules, over, labels, expected) => {
    expect(matchesRules(notifyRulesSchema.parse(rules), finding(over), labels)).toBe(expected);
  });

  it('says when a quiet period holding a moment ends, across midnight and in a time zone', () => {
    const night = quietPeriodSchema.parse({ start: '22:00', end: '07:00' });
    expect(quietUntil(night, utc('21:59'))).toBeUndefined();
    expect(quietUntil(night, utc('23:10'))).toBe(Date.parse('2026-03-11T07:00:00.000Z'));
    expect(quietUntil(night, utc('06:59'))).toBe(Date.parse('2026-03-10T07:00:00.000Z'));
    expect(quietUntil(night, utc('07:00'))).toBeUndefined();
    // 12:00 UTC is 13:00 in Paris in March (UTC+1): inside 12:30-14:00 there, ending at 13:00 UTC.
    const lunch = quietPeriodSchema.parse({ start: '12:30', end: '14:00', tz: 'Europe/Paris' });
    expect(quietUntil(lunch, utc('12:00'))).toBe(Date.parse('2026-03-10T13:00:00.000Z'));
    expect(quietUntil(undefined, utc('12:00'))).toBeUndefined();
  });

  it('refuses malformed quiet periods and parses the CLI form', () => {
    expect(parseQuietRange('22:00-07:00')).toEqual({ start: '22:00', end: '07:00' });
    expect(parseQuietRange('25:00-07:00')).toBeUndefined();
    expect(quietPeriodSchema.safeParse({ start: '22:00', end: '22:00' }).success).toBe(false);
    expect(quietPeriodSchema.safeParse({ start: '22:00', end: '07:00', tz: 'Mars/Olympus' }).success).toBe(false);
  });

  it('backs off exponentially with jitter, capped', () => {
    const p = { baseMs: 1000, maxMs: 8000, maxAttempts: 10, maxAgeMs: 86_400_000 };
    expect([1, 2, 3, 4, 5].map((a) => retryDelay(p, a, () => 0.999999))).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect(retryDelay(p, 3, () => 0)).toBe(2000);
  });
});
