import { findingFieldsSchema } from '../../../src/protocol/finding.js';
import type { FindingFields } from '../../../src/protocol/finding.js';

/** Longest line we try to read as a finding; longer ones are plain text. */
const MAX_LINE = 256 * 1024;

/**
 * Findings a model wrote into its text instead of calling `report_finding`: each line that is a JSON object with
 * `"type":"finding"` (or with no type, but `severity` and `title`) and validates. Anything else is just text.
 */
export function findingsInText(text: string): FindingFields[] {
  const findings: FindingFields[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith('{') || !line.endsWith('}') || line.length > MAX_LINE) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) continue;
    const object = value as Record<string, unknown>;
    const looksLikeFinding = object.type === 'finding' || (object.type === undefined && 'severity' in object && 'title' in object);
    if (!looksLikeFinding) continue;
    const parsed = findingFieldsSchema.safeParse(object);
    if (parsed.success) findings.push(parsed.data);
  }
  return findings;
}
