import type { StreamMessage } from './api.js';
import { CATEGORIES, SEVERITIES, TRIAGE_STATUSES, type StoredFinding } from './finding.js';

/*
 * `streamMessageSchema`'s answer for the message a live stream carries most — a finding, as the CP serves it (in
 * normal form) — without zod: `okesu tail` and the console read thousands a second, and zod on each was ~15 % of
 * tail's CPU at 10,000 findings/s. Anything else is left to the schema. Kept equal to it by
 * test/protocol/stream-fast-path.test.ts.
 */

const SEVERITY_SET: ReadonlySet<string> = new Set(SEVERITIES);
const CATEGORY_SET: ReadonlySet<string> = new Set(CATEGORIES);
const STATUS_SET: ReadonlySet<string> = new Set(TRIAGE_STATUSES);

const isPlain = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

/** A copy of `v` when it is an array of at most `maxItems` strings of at most `maxLength`, else undefined. */
function strings(v: unknown, maxItems: number, maxLength: number): string[] | undefined {
  if (!Array.isArray(v) || v.length > maxItems) return undefined;
  for (const x of v) if (typeof x !== 'string' || x.length > maxLength) return undefined;
  return [...(v as string[])];
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The finding as `storedFindingSchema` returns it (its keys, its order, defaults filled), or undefined when not sure. */
function normalStoredFinding(f: Record<string, unknown>): StoredFinding | undefined {
  const { severity, title, category = 'other', resource = '', dedup_key: dedupKey = '', recommended_action: action, attributes = {} } = f;
  if (typeof severity !== 'string' || !SEVERITY_SET.has(severity)) return undefined;
  if (typeof title !== 'string' || title.length === 0 || title.length > 120 || title.trim() !== title) return undefined;
  if (typeof category !== 'string' || !CATEGORY_SET.has(category)) return undefined;
  if (typeof resource !== 'string' || resource.length > 2048 || typeof dedupKey !== 'string' || dedupKey.length > 512) return undefined;
  if (action !== undefined && (typeof action !== 'string' || action.length > 4096)) return undefined;
  if (Object.hasOwn(f, 'recommended_action') && action === undefined) return undefined;
  const evidence = f['evidence'] === undefined ? [] : strings(f['evidence'], 500, 16 * 1024);
  const tags = f['tags'] === undefined ? [] : strings(f['tags'], 64, 128);
  const indicators = f['indicators'] === undefined ? [] : strings(f['indicators'], Infinity, Infinity);
  if (!evidence || !tags || !indicators) return undefined;
  if (!isPlain(attributes) || Object.hasOwn(attributes, '__proto__') || Object.hasOwn(attributes, 'constructor')) return undefined;
  const { id, fingerprint, host, agent, agent_version: agentVersion, run_id: runId, seq, ts, received_at: receivedAt, status } = f;
  if (!isInt(id) || !isInt(seq) || !isNumber(ts) || !isNumber(receivedAt)) return undefined;
  if (typeof fingerprint !== 'string' || typeof host !== 'string' || typeof agent !== 'string' || typeof agentVersion !== 'string' || typeof runId !== 'string') return undefined;
  if (typeof status !== 'string' || !STATUS_SET.has(status)) return undefined;
  return {
    severity: severity as StoredFinding['severity'], title, category: category as StoredFinding['category'], resource, evidence, dedup_key: dedupKey,
    ...(action !== undefined && { recommended_action: action }),
    tags, attributes: { ...attributes }, id, fingerprint, host, agent, agent_version: agentVersion, run_id: runId, seq, ts, received_at: receivedAt,
    status: status as StoredFinding['status'], indicators,
  };
}

/** `streamMessageSchema`'s data for a `finding` message whose finding is in normal form; undefined for anything else. */
export function wellFormedFindingMessage(value: unknown): StreamMessage | undefined {
  if (!isPlain(value) || value['type'] !== 'finding' || !isNumber(value['cursor']) || !isPlain(value['finding'])) return undefined;
  const finding = normalStoredFinding(value['finding']);
  return finding && { type: 'finding', cursor: value['cursor'], finding };
}
