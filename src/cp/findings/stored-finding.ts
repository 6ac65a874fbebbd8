import { CATEGORIES, SEVERITIES, findingFieldsSchema, type FindingFields, type StoredFinding, type TRIAGE_STATUSES } from '../../protocol/finding.js';

/** Where a finding came from: the stamp of its transcript event. */
export interface FindingStamp {
  host: string;
  agent: string;
  agent_version: string;
  run_id: string;
  seq: number;
  ts: number;
}

/** What the CP adds to a finding when it stores it. */
export interface FindingFacts {
  id: number;
  fingerprint: string;
  received_at: number;
  status: (typeof TRIAGE_STATUSES)[number];
  indicators: string[];
}

const SEVERITY_SET: ReadonlySet<string> = new Set(SEVERITIES);
const CATEGORY_SET: ReadonlySet<string> = new Set(CATEGORIES);
const isStrings = (v: unknown, maxItems: number, maxLength: number): v is string[] =>
  Array.isArray(v) && v.length <= maxItems && v.every((x) => typeof x === 'string' && x.length <= maxLength);

/**
 * `findingFieldsSchema`'s answer for a finding already in its normal form (severity upper case, category lower case,
 * title trimmed, no attributes, every field within its bounds), without zod; undefined for anything else, which the
 * schema then decides. Zod took ~2.2 µs of the CP's ~35 µs per finding in the ingest suite; this ~0.3 µs. Kept equal
 * to the schema by test/cp/findings/finding-fields.test.ts.
 */
function normalFindingFields(event: Record<string, unknown>): FindingFields | undefined {
  const { severity, title, category, resource, evidence, dedup_key: dedupKey, recommended_action: action, tags, attributes } = event;
  if (typeof severity !== 'string' || !SEVERITY_SET.has(severity)) return undefined;
  if (typeof title !== 'string' || title.length === 0 || title.length > 120 || title.trim() !== title) return undefined;
  if (category !== undefined && (typeof category !== 'string' || !CATEGORY_SET.has(category))) return undefined;
  if (resource !== undefined && (typeof resource !== 'string' || resource.length > 2048)) return undefined;
  if (evidence !== undefined && !isStrings(evidence, 500, 16 * 1024)) return undefined;
  if (dedupKey !== undefined && (typeof dedupKey !== 'string' || dedupKey.length > 512)) return undefined;
  if (action !== undefined && (typeof action !== 'string' || action.length > 4096)) return undefined;
  if (tags !== undefined && !isStrings(tags, 64, 128)) return undefined;
  if (attributes !== undefined || Object.hasOwn(event, 'attributes') || Object.hasOwn(event, 'recommended_action') !== (action !== undefined)) return undefined;
  const fields: FindingFields = {
    severity: severity as FindingFields['severity'], title, category: (category ?? 'other') as FindingFields['category'], resource: resource ?? '',
    evidence: evidence ? [...evidence] : [], dedup_key: dedupKey ?? '', tags: tags ? [...tags] : [], attributes: {},
  };
  if (action !== undefined) fields.recommended_action = action;
  return fields;
}

/**
 * Validates a finding event's fields (`findingFieldsSchema`: the checks of `findingEventSchema` once the type is
 * known to be `finding`, without copying the event's other keys). Returns the normalized fields or the issues.
 */
export function validateFindingFields(event: unknown): { ok: true; fields: FindingFields } | { ok: false; reason: string } {
  const normal = typeof event === 'object' && event !== null && !Array.isArray(event) ? normalFindingFields(event as Record<string, unknown>) : undefined;
  if (normal) return { ok: true, fields: normal };
  const parsed = findingFieldsSchema.safeParse(event);
  if (parsed.success) return { ok: true, fields: parsed.data };
  return { ok: false, reason: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
}

/** The agent version an event claims, or ''. */
export function agentVersionOf(event: Record<string, unknown>): string {
  const version = event['agent_version'];
  return typeof version === 'string' ? version : '';
}

/** A stored finding from its validated fields, its event's stamp and the CP's facts. */
export function toStoredFinding(f: FindingFields, stamp: FindingStamp, facts: FindingFacts): StoredFinding {
  return {
    id: facts.id,
    fingerprint: facts.fingerprint,
    severity: f.severity, title: f.title, category: f.category, resource: f.resource, evidence: f.evidence,
    dedup_key: f.dedup_key, recommended_action: f.recommended_action, tags: f.tags, attributes: f.attributes,
    host: stamp.host, agent: stamp.agent, agent_version: stamp.agent_version, run_id: stamp.run_id, seq: stamp.seq, ts: stamp.ts,
    received_at: facts.received_at, status: facts.status, indicators: facts.indicators,
  };
}

/**
 * Rebuilds a stored finding from its transcript event's JSON and the CP's facts: a finding is stored once, as its
 * event (validated when it was stored, so this parse only normalizes again).
 */
export function parseStoredFinding(eventJson: string, facts: FindingFacts): StoredFinding {
  const raw = JSON.parse(eventJson) as Record<string, unknown>;
  const stamp: FindingStamp = {
    host: String(raw['host']), agent: String(raw['agent']), agent_version: agentVersionOf(raw),
    run_id: String(raw['run_id']), seq: Number(raw['seq']), ts: Number(raw['ts']),
  };
  return toStoredFinding(findingFieldsSchema.parse(raw), stamp, facts);
}
