import { matchPattern } from './glob-match.js';
import { resourceRoot } from '../protocol/fingerprint.js';

/** The longest a suppression may run before someone looks at it again: its `expires` is at most this far ahead. */
export const SUPPRESS_MAX_AHEAD_MS = 366 * 24 * 3600_000;

/** What a suppression entry compares, each a glob over the whole value (`*`, `?`) or `/regex/` tested anywhere. */
export interface SuppressMatch {
  /** The finding's resource, or its stable root (volatile keys such as pid left out, pairs sorted — as the CP groups). */
  resource?: string;
  title?: string;
  dedup_key?: string;
  /** The evidence lines joined with newlines. */
  evidence?: string;
}

/**
 * One entry of the host policy's `suppress:` list: findings of an agent (and rule) the host owner knows to be
 * expected here. They are dropped on the host before they are spooled; the run reports how many, by which entry.
 */
export interface SuppressEntry {
  /** Position in the policy's list. */
  index: number;
  /** Where it is written (`/etc/okesu/policy.yaml:14`), to name it in logs and in the run's report. */
  at: string;
  /** The agent's name, or a glob of names. */
  agent: string;
  /** The rule that made the finding (its `attributes.rule`), or a glob; absent: any finding of the agent. */
  rule?: string;
  match: SuppressMatch;
  reason: string;
  /** Epoch ms from which the entry no longer suppresses. */
  expires: number;
  /** `expires` as written. */
  expiresText: string;
}

/** A finding as a run emits it: a suppression looks at its title, resource, dedup_key, evidence and attributes.rule. */
export type SuppressSubject = Readonly<Record<string, unknown>>;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Reads an expiry: a date `YYYY-MM-DD` (the entry stops suppressing at 00:00 UTC that day) or an ISO 8601 time with
 * its zone. Undefined when it is neither.
 */
export function parseExpiry(value: unknown): number | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.getTime();
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  const day = DATE.exec(text);
  if (day) {
    const ms = Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]));
    // Date.UTC rolls 2027-02-30 over into March: such a date is a typo, not a day.
    return new Date(ms).toISOString().slice(0, 10) === text ? ms : undefined;
  }
  if (!TIMESTAMP.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** True once `entry` no longer suppresses. */
export function isExpired(entry: SuppressEntry, now: number): boolean {
  return now >= entry.expires;
}

/** One line naming an entry in logs and reports: `suppress[0] (policy.yaml:14) edr/memfd-executable`. */
export function describeSuppression(entry: SuppressEntry): string {
  return `suppress[${entry.index}] (${entry.at}) ${entry.agent}${entry.rule !== undefined ? `/${entry.rule}` : ''}`;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/** True when `entry` covers this finding of `agent` (its expiry is the caller's: see `isExpired`). */
export function suppresses(entry: SuppressEntry, agent: string, finding: SuppressSubject): boolean {
  if (!matchPattern(entry.agent, agent, 'name')) return false;
  if (entry.rule !== undefined) {
    const rule = (finding.attributes as { rule?: unknown } | undefined)?.rule;
    if (typeof rule !== 'string' || !matchPattern(entry.rule, rule, 'name')) return false;
  }
  const m = entry.match;
  if (m.resource !== undefined) {
    const resource = text(finding.resource);
    if (!matchPattern(m.resource, resource, 'name') && !matchPattern(m.resource, resourceRoot(resource), 'name')) return false;
  }
  if (m.title !== undefined && !matchPattern(m.title, text(finding.title), 'name')) return false;
  if (m.dedup_key !== undefined && !matchPattern(m.dedup_key, text(finding.dedup_key), 'name')) return false;
  if (m.evidence !== undefined) {
    const evidence = Array.isArray(finding.evidence) ? finding.evidence.map(text).join('\n') : text(finding.evidence);
    if (!matchPattern(m.evidence, evidence, 'name')) return false;
  }
  return true;
}

/** The first unexpired entry that covers this finding of `agent`, if any. */
export function findSuppression(entries: readonly SuppressEntry[], agent: string, finding: SuppressSubject, now: number): SuppressEntry | undefined {
  return entries.find((e) => !isExpired(e, now) && suppresses(e, agent, finding));
}
