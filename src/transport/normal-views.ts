import { HOST_STATES, type HostView, type StreamMessage } from '../protocol/api.js';
import { CATEGORIES, SEVERITIES, TRIAGE_STATUSES, type StoredFinding } from '../protocol/finding.js';
import { hostRolloutSchema } from '../protocol/rollout.js';

/*
 * The schemas' answers for the CP's own output, built without zod. A console following a 1,000 findings/s feed
 * validated every streamed finding, and every 25 s 10,000 hosts, through zod: ~40 % of what it allocated outside
 * rendering, and a 50-450 ms pause per host refresh (issue 17). The CP always sends these views in their normal form
 * (every field present, severity upper case, title trimmed…), so each is checked field by field here and copied into
 * one object literal in the schema's key order: the same value zod would give, strings and arrays shared with the
 * parsed JSON. Anything else (a default to fill in, a value to normalise, a wrong type) gives undefined, and the
 * caller asks the schema, which then decides and describes. test/transport/normal-views.test.ts holds these equal to
 * the schemas.
 */

const SEVERITY_SET: ReadonlySet<unknown> = new Set(SEVERITIES);
const CATEGORY_SET: ReadonlySet<unknown> = new Set(CATEGORIES);
const STATUS_SET: ReadonlySet<unknown> = new Set(TRIAGE_STATUSES);
const HOST_STATE_SET: ReadonlySet<unknown> = new Set(HOST_STATES);

type Raw = Record<string, unknown>;

const isRecord = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isInt = (v: unknown): v is number => Number.isSafeInteger(v);
const isNullableNumber = (v: unknown): v is number | null => v === null || isNumber(v);
const isString = (v: unknown, max = Infinity): v is string => typeof v === 'string' && v.length <= max;
const isStrings = (v: unknown, maxItems: number, maxLength: number): v is string[] => {
  if (!Array.isArray(v) || v.length > maxItems) return false;
  for (const x of v) if (typeof x !== 'string' || x.length > maxLength) return false;
  return true;
};
/** A plain JSON object; `__proto__` as an own key is left to zod (its record copy would assign the prototype). */
const isPlainRecord = (v: unknown): v is Raw => isRecord(v) && !Object.hasOwn(v, '__proto__');
const isStringRecord = (v: unknown): v is Record<string, string> => {
  if (!isPlainRecord(v)) return false;
  for (const k in v) if (typeof v[k] !== 'string') return false;
  return true;
};

/** `storedFindingSchema`'s answer for a stored finding in normal form, else undefined. */
export function normalStoredFinding(raw: unknown): StoredFinding | undefined {
  if (!isRecord(raw)) return undefined;
  const { severity, title, category, resource, evidence, dedup_key: dedupKey, recommended_action: action, tags, attributes } = raw;
  if (!SEVERITY_SET.has(severity) || !CATEGORY_SET.has(category)) return undefined;
  if (typeof title !== 'string' || title.length === 0 || title.length > 120 || title.trim() !== title) return undefined;
  if (!isString(resource, 2048) || !isString(dedupKey, 512) || !isStrings(evidence, 500, 16 * 1024) || !isStrings(tags, 64, 128)) return undefined;
  if (!isPlainRecord(attributes) || (action !== undefined && !isString(action, 4096))) return undefined;
  const { id, fingerprint, host, agent, agent_version: agentVersion, run_id: runId, seq, ts, received_at: receivedAt, status, indicators } = raw;
  if (!isInt(id) || !isInt(seq) || !isNumber(ts) || !isNumber(receivedAt) || !STATUS_SET.has(status)) return undefined;
  if (!isString(fingerprint) || !isString(host) || !isString(agent) || !isString(agentVersion) || !isString(runId) || !isStrings(indicators, Infinity, Infinity)) return undefined;
  const sev = severity as StoredFinding['severity'];
  const cat = category as StoredFinding['category'];
  const st = status as StoredFinding['status'];
  // Two literals rather than one with a conditional key: zod leaves an absent optional key out.
  return action === undefined
    ? {
        severity: sev, title, category: cat, resource, evidence, dedup_key: dedupKey, tags, attributes,
        id, fingerprint, host, agent, agent_version: agentVersion, run_id: runId, seq, ts, received_at: receivedAt, status: st, indicators,
      }
    : {
        severity: sev, title, category: cat, resource, evidence, dedup_key: dedupKey, recommended_action: action, tags, attributes,
        id, fingerprint, host, agent, agent_version: agentVersion, run_id: runId, seq, ts, received_at: receivedAt, status: st, indicators,
      };
}

/** `hostViewSchema`'s answer for a host view in normal form (every field present), else undefined. */
export function normalHostView(raw: unknown): HostView | undefined {
  if (!isRecord(raw)) return undefined;
  const { hostname, state, last_heartbeat: lastHeartbeat, heartbeat_seq: heartbeatSeq, version, os, arch, transport, path, poll_ms: pollMs } = raw;
  if (!isString(hostname) || !HOST_STATE_SET.has(state) || !isNullableNumber(lastHeartbeat) || !isNullableNumber(heartbeatSeq)) return undefined;
  if (!isString(version) || !isString(os) || !isString(arch) || !isString(transport)) return undefined;
  if ((path !== null && path !== 'tunnel' && path !== 'jobs') || !isNullableNumber(pollMs)) return undefined;
  const { heartbeat_interval_ms: intervalMs, connected, labels, running, spool_depth: spoolDepth, registered_at: registeredAt } = raw;
  if (!isNullableNumber(intervalMs) || typeof connected !== 'boolean' || !isStringRecord(labels)) return undefined;
  if (!isNumber(running) || !isNumber(spoolDepth) || !isNumber(registeredAt)) return undefined;
  const { cert_issued_at: issuedAt, cert_expires_at: expiresAt, rollout: rawRollout } = raw;
  if (!isNullableNumber(issuedAt) || !isNullableNumber(expiresAt)) return undefined;
  let rollout: HostView['rollout'] = null;
  if (rawRollout !== null) {
    // Rare (a host in a rollout) and small, with id and version formats of its own: the schema's own answer.
    const parsed = hostRolloutSchema.safeParse(rawRollout);
    if (!parsed.success) return undefined;
    rollout = parsed.data;
  }
  return {
    hostname, state: state as HostView['state'], last_heartbeat: lastHeartbeat, heartbeat_seq: heartbeatSeq, version, os, arch, transport, path,
    poll_ms: pollMs, heartbeat_interval_ms: intervalMs, connected, labels, running, spool_depth: spoolDepth, registered_at: registeredAt,
    cert_issued_at: issuedAt, cert_expires_at: expiresAt, rollout,
  };
}

/** Every item of `raw` through `each`, or undefined as soon as one is not in normal form. */
export function normalList<T>(raw: unknown, each: (item: unknown) => T | undefined): T[] | undefined {
  if (!Array.isArray(raw)) return undefined;
  const out: T[] = new Array<T>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const item = each(raw[i]);
    if (item === undefined) return undefined;
    out[i] = item;
  }
  return out;
}

/** `streamMessageSchema`'s answer for a `finding` or `host` message in normal form, else undefined (other kinds too). */
export function normalStreamMessage(raw: unknown): StreamMessage | undefined {
  if (!isRecord(raw) || !isNumber(raw['cursor'])) return undefined;
  const cursor = raw['cursor'];
  if (raw['type'] === 'finding') {
    const finding = normalStoredFinding(raw['finding']);
    return finding === undefined ? undefined : { type: 'finding', cursor, finding };
  }
  if (raw['type'] === 'host') {
    const host = normalHostView(raw['host']);
    return host === undefined ? undefined : { type: 'host', cursor, host };
  }
  return undefined;
}
