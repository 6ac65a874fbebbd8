import { stringify } from 'yaml';
import { resourceRoot } from '../protocol/fingerprint.js';
import type { SuppressSuggestion } from '../protocol/findings-api.js';
import type { SuppressMatch } from './suppress.js';

/** How long a suggested suppression runs before it expires. */
export const SUGGESTED_SUPPRESS_DAYS = 90;

/** The reason a suggestion carries when the operator gave none: the host owner must write the real one. */
export const REASON_PLACEHOLDER = 'TODO: say why these findings are expected on this host';

/** The fields of a finding a suggestion is built from. */
export interface SuggestionSource {
  agent: string;
  title: string;
  resource: string;
  attributes: Record<string, unknown>;
}

const RULE_NAME = /^[a-z0-9][a-z0-9_-]{0,127}$/i;

/**
 * A `suppress:` entry for the host policy that would drop this finding and its repeats (CP triage `false_positive`):
 * the agent, the rule that made it, the resource's stable root (pids and other volatile keys left out) or else the
 * title with its numbers as `*`, the operator's reason (or a placeholder), and an expiry 90 days ahead. Only a
 * suggestion: the host owner pastes it into /etc/okesu/policy.yaml, the CP never writes host policy.
 */
export function suggestSuppression(finding: SuggestionSource, reason: string, now: number): SuppressSuggestion {
  const rule = typeof finding.attributes['rule'] === 'string' && RULE_NAME.test(finding.attributes['rule']) ? finding.attributes['rule'] : undefined;
  const root = resourceRoot(finding.resource);
  const match: SuppressMatch = root !== '' ? { resource: literalPattern(root) } : { title: literalPattern(finding.title.replace(/\d+/g, '*')) };
  const expires = new Date(now + SUGGESTED_SUPPRESS_DAYS * 24 * 3600_000).toISOString().slice(0, 10);
  const entry = {
    agent: finding.agent,
    ...(rule !== undefined && { rule }),
    match,
    reason: reason.trim() !== '' ? reason.trim().replace(/\s+/g, ' ').slice(0, 1024) : REASON_PLACEHOLDER,
    expires,
  };
  return { ...entry, yaml: stringify({ suppress: [entry] }, { lineWidth: 0 }) };
}

/**
 * A glob that matches `text` itself. Globs have no escape, and `*`/`?` in the text still match themselves, so the
 * text is the glob — unless it is written `/…/`, which would be read as a regular expression: that one is escaped.
 */
function literalPattern(text: string): string {
  if (!(text.length > 2 && text.startsWith('/') && text.endsWith('/'))) return text;
  return `/^${text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$/`;
}
