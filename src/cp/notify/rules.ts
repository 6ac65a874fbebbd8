import { matchPattern } from '../../specs/glob-match.js';
import { severityRank, type StoredFinding } from '../../protocol/finding.js';
import type { NotifyRules, QuietPeriod } from '../../protocol/notify-api.js';

/** True when a channel's rules take `finding` (on a host with `labels`): severity, then every filter given. */
export function matchesRules(rules: NotifyRules, finding: StoredFinding, labels: Readonly<Record<string, string>>): boolean {
  if (severityRank(finding.severity) < severityRank(rules.min_severity)) return false;
  const anyOf = (globs: readonly string[], subject: string): boolean => globs.length === 0 || globs.some((g) => matchPattern(g, subject, 'name'));
  if (!anyOf(rules.agents, finding.agent) || !anyOf(rules.hosts, finding.host) || !anyOf(rules.categories, finding.category)) return false;
  return Object.entries(rules.labels).every(([key, glob]) => labels[key] !== undefined && matchPattern(glob, labels[key], 'name'));
}

const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** The minute of the day (0-1439) at `at` in time zone `tz`. */
function localMinute(at: number, tz: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(at));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return get('hour') * 60 + get('minute');
}

/**
 * When the quiet period holding `at` ends (ms), or undefined when `at` is outside it. Computed to the minute in the
 * period's time zone; on a day a clock change moves, the end may come up to an hour early or late.
 */
export function quietUntil(quiet: QuietPeriod | undefined, at: number): number | undefined {
  if (!quiet) return undefined;
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  const m = localMinute(at, quiet.tz);
  const inside = start < end ? m >= start && m < end : m >= start || m < end;
  if (!inside) return undefined;
  const minutesLeft = (end - m + 1440) % 1440;
  return at - (at % 60_000) + minutesLeft * 60_000;
}
