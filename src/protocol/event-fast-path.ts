import { CATEGORIES, SEVERITIES } from './finding.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from './json-value.js';

/*
 * Hand-written answers for the common, well-formed shapes of event bodies, so a daimon relaying thousands of agent
 * lines a second does not run zod on each (zod was ~9 % of the daimon's CPU at 10,000 findings/s). Each check answers
 * only when it is sure the schema would accept; anything else goes to the schema, which gives the errors. Kept equal
 * to the schemas by test/protocol/event-fast-path.test.ts.
 */

const TYPE_RE = /^[a-z][a-z0-9_]{0,63}$/;
const SEVERITY_SET: ReadonlySet<string> = new Set(SEVERITIES);
const CATEGORY_SET: ReadonlySet<string> = new Set(CATEGORIES);

const firstKey = (value: object): string | undefined => {
  for (const key in value) return key;
  return undefined;
};

/**
 * `eventBodySchema`'s output for `value` when it is a plain object whose first key is a well-formed `type`, with no
 * own `__proto__` key and nested at most MAX_JSON_DEPTH deep: the object itself, as the schema's copy would have the
 * same keys in the same order. Undefined for anything else.
 */
export function wellFormedEventBody(value: unknown): ({ type: string } & Record<string, unknown>) | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.getPrototypeOf(value) !== Object.prototype) return undefined;
  const body = value as Record<string, unknown>;
  const type = body['type'];
  if (typeof type !== 'string' || !TYPE_RE.test(type) || firstKey(body) !== 'type' || Object.hasOwn(body, '__proto__')) return undefined;
  if (nestsDeeperThan(body, MAX_JSON_DEPTH)) return undefined;
  return body as { type: string } & Record<string, unknown>;
}

const isStrings = (v: unknown, maxItems: number, maxLength: number): boolean => {
  if (!Array.isArray(v) || v.length > maxItems) return false;
  for (const x of v) if (typeof x !== 'string' || x.length > maxLength) return false;
  return true;
};

const optionalString = (v: unknown, maxLength: number): boolean => v === undefined || (typeof v === 'string' && v.length <= maxLength);

const isPlainRecord = (v: unknown): boolean =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype && !Object.hasOwn(v, 'constructor');

/**
 * True when `findingEventSchema` surely accepts `body` (a body of type `finding`); false means "ask the schema", not
 * "invalid". Severity and category may be in any case, as the schema allows.
 */
export function findingEventHolds(body: Record<string, unknown>): boolean {
  if (body['type'] !== 'finding') return false;
  const { severity, title, category, evidence, tags, attributes } = body;
  if (typeof severity !== 'string' || !SEVERITY_SET.has(severity.trim().toUpperCase())) return false;
  if (typeof title !== 'string') return false;
  const trimmed = title.trim();
  if (trimmed.length === 0 || trimmed.length > 120) return false;
  if (category !== undefined && (typeof category !== 'string' || !CATEGORY_SET.has(category.trim().toLowerCase()))) return false;
  if (!optionalString(body['resource'], 2048) || !optionalString(body['dedup_key'], 512) || !optionalString(body['recommended_action'], 4096)) return false;
  if (evidence !== undefined && !(typeof evidence === 'string' ? evidence.length <= 64 * 1024 : isStrings(evidence, 500, 16 * 1024))) return false;
  if (tags !== undefined && !isStrings(tags, 64, 128)) return false;
  if (attributes !== undefined && !isPlainRecord(attributes)) return false;
  return true;
}
