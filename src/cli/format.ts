import type { HostState } from '../protocol/api.js';
import { formatCoarseDuration } from '../protocol/duration.js';
import type { Severity, StoredFinding } from '../protocol/finding.js';
import { lineText, toned } from './output.js';
import type { Span, Tone } from './output.js';

/** Age of a timestamp relative to `now`: `3s ago`, `5m ago`, `2h ago`, `4d ago`; `never` when absent. */
export function formatAge(ts: number | null | undefined, now: number): string {
  if (ts === null || ts === undefined) return 'never';
  return `${formatCoarseDuration(now - ts)} ago`;
}

/** Local wall-clock time `HH:MM:SS`. */
export function formatClock(ts: number): string {
  const d = new Date(ts);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** UTC time to the second, `2026-11-24T17:23:19Z`. */
export function formatUtcSeconds(ts: number): string {
  return new Date(ts).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const STATE_GLYPH: Record<HostState, string> = { online: '●', stale: '◐', offline: '○' };
const STATE_TONE: Record<HostState, Tone> = { online: 'ok', stale: 'warn', offline: 'muted' };

/** A host state as glyph + word (`● online`), readable without colour. */
export function formatHostState(state: HostState): string {
  return `${STATE_GLYPH[state]} ${state}`;
}

/** The colour meaning of a host state. */
export function hostStateTone(state: HostState): Tone {
  return STATE_TONE[state];
}

const SEVERITY_TONE: Record<Severity, Tone> = { CRITICAL: 'critical', HIGH: 'high', MEDIUM: 'medium', LOW: 'low', INFO: 'info' };

/** The colour meaning of a severity. */
export function severityTone(severity: Severity): Tone {
  return SEVERITY_TONE[severity];
}

/** Labels as `k=v,k2=v2`, sorted by key. */
export function formatLabels(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k] ?? ''}`)
    .join(',');
}

/** The human `tail` line as spans: ISO time, severity (toned) padded to 8, host, agent, title, resource. */
export function findingLine(f: StoredFinding): Span[] {
  const rest = [f.host, f.agent, oneLine(f.title), ...(f.resource ? [oneLine(f.resource)] : [])];
  return [`${new Date(f.ts).toISOString()}  `, toned(f.severity, severityTone(f.severity)), `${' '.repeat(Math.max(0, 8 - f.severity.length))}  ${rest.join('  ')}`];
}

/** The human `tail` line as plain text. */
export function formatFindingLine(f: StoredFinding): string {
  return lineText(findingLine(f));
}

/** Collapses line breaks and tabs so a value stays on one line. */
export function oneLine(text: string): string {
  return text.replace(/[\r\n\t]+/g, ' ').trim();
}
