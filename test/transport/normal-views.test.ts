import { describe, expect, it } from 'vitest';
import { hostViewSchema, streamMessageSchema } from '../../src/protocol/api.js';
import { storedFindingSchema } from '../../src/protocol/finding.js';
import { normalHostView, normalList, normalStoredFinding, normalStreamMessage } from '../../src/transport/normal-views.js';
import { seededPick } from '../support/seeded-pick.js';

// The normal-form checks answer without zod; whenever they answer, it must be the schema's answer, key order included
// (the console and `okesu tail --json` print what they get).

const FINDING_CHOICES: Record<string, unknown[]> = {
  severity: ['HIGH', 'INFO', 'high', ' LOW', 'SEVERE', '', 3, null, undefined],
  title: ['Suspicious process 4', ' padded ', '', 'x'.repeat(120), 'x'.repeat(121), '\u00a0nbsp', 7, undefined],
  category: ['process', 'network', undefined, 'Network', 'weird', '', null],
  resource: ['binary:/usr/bin/x', '', undefined, 'r'.repeat(2048), 'r'.repeat(2049), 5],
  evidence: [['pid 1', 'cmdline x'], [], undefined, 'a\nb', '', ['e'.repeat(16 * 1024 + 1)], Array(501).fill('x'), [1], null],
  dedup_key: ['', 'k', undefined, 'k'.repeat(513), false],
  recommended_action: [undefined, 'kill it', 'a'.repeat(4097), 1, null],
  tags: [['bench'], [], undefined, Array(65).fill('t'), ['t'.repeat(129)], 'bench'],
  attributes: [{}, { k: 1, n: { deep: [1] } }, undefined, [], null, JSON.parse('{"__proto__":{"x":1}}') as unknown],
  id: [12, 0, undefined, 1.5, '12', Number.MAX_SAFE_INTEGER + 2],
  fingerprint: ['054177a8', '', undefined, 1],
  host: ['web-1', undefined, null],
  agent: ['bench-edr', undefined, 3],
  agent_version: ['', '1.2.0', undefined],
  run_id: ['r_01M9352PXPTG005FEZY0M511DW', undefined, {}],
  seq: [7, undefined, -1, 2.5],
  ts: [1796477207509, 1.5, undefined, Infinity, '1'],
  received_at: [1796477207910, undefined, null],
  status: ['open', 'resolved', 'false_positive', undefined, 'Open', 'closed'],
  indicators: [[], ['1.2.3.4'], undefined, [1], 'x'],
  extra: [undefined, 'left out by both'],
};

const HOST_CHOICES: Record<string, unknown[]> = {
  hostname: ['con-00001', '', undefined, 5],
  state: ['online', 'stale', 'offline', undefined, 'Online', 'gone'],
  last_heartbeat: [1796475971712, null, undefined, '1'],
  heartbeat_seq: [12, null, undefined, true],
  version: ['bench', '0.9.1', undefined, null],
  os: ['linux', undefined],
  arch: ['x64', undefined, 1],
  transport: ['tunnel', 'auto', 'jobs', undefined],
  path: ['tunnel', 'jobs', null, undefined, 'bucket'],
  poll_ms: [null, 2000, undefined, '2000'],
  heartbeat_interval_ms: [5000, null, undefined],
  connected: [true, false, undefined, 'yes'],
  labels: [{}, { role: 'web', dc: 'fra' }, undefined, { n: 1 }, [], null, JSON.parse('{"__proto__":"x"}') as unknown],
  running: [0, 3, undefined, null],
  spool_depth: [0, 10, undefined],
  registered_at: [1796475971712, undefined, Infinity],
  cert_issued_at: [1796475971000, null, undefined],
  cert_expires_at: [1828011971000, null, undefined],
  rollout: [null, undefined, { rollout_id: 'ro_01M9352PXPTG005FEZY0M511DW', version: '1.2.3', state: 'staged' }, { rollout_id: 'x', version: '1', state: 'staged' }, { state: 'nope' }],
  extra: [undefined, 'left out by both'],
};



/** A case: the first choice of every field mostly (normal form), any choice sometimes. */
function build(choices: Record<string, unknown[]>, pick: <T>(xs: readonly T[]) => T, wild: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, xs] of Object.entries(choices)) {
    const v = pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) < wild ? pick(xs) : xs[0];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** Runs `n` cases through both and checks the fast answer is the schema's whenever there is one; counts answers. */
function compare(n: number, make: (i: number) => unknown, fast: (raw: unknown) => unknown, schema: { safeParse(v: unknown): { success: boolean; data?: unknown } }): number {
  let answered = 0;
  for (let i = 0; i < n; i++) {
    const raw = make(i);
    const got = fast(raw);
    if (got === undefined) continue;
    answered++;
    const parsed = schema.safeParse(raw);
    expect(parsed.success, JSON.stringify(raw)).toBe(true);
    expect(got, JSON.stringify(raw)).toStrictEqual(parsed.data);
    expect(JSON.stringify(got)).toBe(JSON.stringify(parsed.data));
  }
  return answered;
}

describe('normal-form views', () => {
  it('a stored finding: the answer of storedFindingSchema', () => {
    const pick = seededPick(7);
    const answered = compare(10_000, (i) => build(FINDING_CHOICES, pick, i % 4), normalStoredFinding, storedFindingSchema);
    expect(answered).toBeGreaterThan(2500);
  });

  it('a host view: the answer of hostViewSchema', () => {
    const pick = seededPick(11);
    const answered = compare(10_000, (i) => build(HOST_CHOICES, pick, i % 4), normalHostView, hostViewSchema);
    expect(answered).toBeGreaterThan(2500);
  });

  it('finding and host stream messages: the answer of streamMessageSchema; other kinds go to the schema', () => {
    const pick = seededPick(13);
    const answered = compare(4_000, (i) => {
      const kind = pick(['finding', 'host', 'finding', 'ready', 'run', 'other']);
      const body = kind === 'host' ? build(HOST_CHOICES, pick, i % 3) : build(FINDING_CHOICES, pick, i % 3);
      return { type: kind, cursor: pick([5, 5, 5, '5', undefined, 1.5]), [kind === 'host' ? 'host' : 'finding']: body };
    }, normalStreamMessage, streamMessageSchema);
    expect(answered).toBeGreaterThan(500);
    expect(normalStreamMessage({ type: 'ready', cursor: 3 })).toBeUndefined();
  });

  it('a list answers only when every item does', () => {
    const ok = build(HOST_CHOICES, seededPick(1), 0);
    expect(normalList([ok, ok], normalHostView)).toHaveLength(2);
    expect(normalList([ok, { ...ok, state: 'gone' }], normalHostView)).toBeUndefined();
    expect(normalList('x', normalHostView)).toBeUndefined();
    expect(normalList([], normalHostView)).toEqual([]);
  });
});
