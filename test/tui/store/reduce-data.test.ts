import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../../src/protocol/event.js';
import { emptySummary, initialState } from '../../../tui/store/initial-state.js';
import { reduce } from '../../../tui/store/reduce.js';
import type { DataEvent } from '../../../tui/store/events.js';
import { LIMITS, type ConsoleState } from '../../../tui/store/state.js';
import { finding, host, orchRun, run, snapshot } from './fixtures.js';

const fresh = (): ConsoleState => initialState('https://cp:8443', 7);
const events = (from: number, n: number, runId = 'r1'): RunEvent[] =>
  Array.from({ length: n }, (_, i) => ({ type: 'log', ts: from + i, host: 'web-01', agent: 'a', run_id: runId, seq: from + i }));

describe('initialState', () => {
  it('starts on the fleet view, connecting, with every severity counted at 0', () => {
    const s = fresh();
    expect(s.ui.stack).toEqual([{ view: 'fleet' }]);
    expect(s.connection).toEqual({ state: 'connecting', detail: null, since: 7, reconnects: 0 });
    expect(s.loaded).toBe(false);
    expect(s.summary.by_severity).toEqual({ CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, INFO: 0 });
    expect(s.summary.open_by_severity).toEqual(s.summary.by_severity);
    expect(s.findings.capacity).toBe(LIMITS.feed);
    expect(s.cp).toBe('https://cp:8443');
  });
});

describe('reduce: snapshot and refreshes', () => {
  it('a snapshot replaces the data slices, sets loaded and the cursor, keeps ui and connection', () => {
    const s0 = reduce(fresh(), { type: 'ui/jump', view: 'findings' });
    const summary = { ...emptySummary(), total: 3 };
    const s = reduce(s0, snapshot({
      at: 500, cursor: 77, hosts: [host('a'), host('b')], findings: [finding(1), finding(2)], summary,
      runs: [run('r1', 1)], orchestrationRuns: [orchRun('o1', 1)],
    }));
    expect(s.loaded).toBe(true);
    expect(s.cursor).toBe(77);
    expect(s.me).toEqual({ name: 'alice', role: 'operator' });
    expect([...s.hosts.keys()]).toEqual(['a', 'b']);
    expect(s.hostsRefreshedAt).toBe(500);
    expect(s.findings.toArray().map((f) => f.id)).toEqual([1, 2]);
    expect(s.summary).toBe(summary);
    expect(s.runs.get('r1')?.run_id).toBe('r1');
    expect(s.orchestrationRuns.get('o1')?.id).toBe('o1');
    expect(s.ui).toBe(s0.ui);
    expect(s.connection).toBe(s0.connection);
    // A reload replaces rather than merges.
    const again = reduce(s, snapshot({ cursor: 80, hosts: [host('c')] }));
    expect([...again.hosts.keys()]).toEqual(['c']);
    expect(again.findings.size).toBe(0);
  });

  it('a snapshot bounds the feed and the run maps', () => {
    const s = reduce(fresh(), snapshot({
      findings: Array.from({ length: LIMITS.feed + 5 }, (_, i) => finding(i)),
      runs: Array.from({ length: LIMITS.runs + 5 }, (_, i) => run(`r${i}`, i)),
    }));
    expect(s.findings.size).toBe(LIMITS.feed);
    expect(s.findings.newest(0)?.id).toBe(LIMITS.feed + 4);
    expect(s.runs.size).toBe(LIMITS.runs);
    expect(s.runs.has('r0')).toBe(false);
  });

  it('hosts, summary, groups, clusters and library replace their slice only', () => {
    const s0 = fresh();
    const h = reduce(s0, { type: 'hosts', at: 9, hosts: [host('x')] });
    expect(h.hosts.get('x')?.hostname).toBe('x');
    expect(h.hostsRefreshedAt).toBe(9);
    expect(h.findings).toBe(s0.findings);
    const summary = { ...emptySummary(), total: 1 };
    expect(reduce(s0, { type: 'summary', summary }).summary).toBe(summary);
    const g = reduce(s0, { type: 'groups', groups: [] });
    expect(g.hosts).toBe(s0.hosts);
    expect(reduce(s0, { type: 'clusters', clusters: [] }).summary).toBe(s0.summary);
    const lib = reduce(s0, { type: 'library', orchestrations: [], agents: [{ name: 'a', description: '', provider: 'p', mode: 'm', timeout_ms: 1, inputs: [] }] });
    expect(lib.agents.map((a) => a.name)).toEqual(['a']);
  });
});

describe('reduce: first load in two steps', () => {
  const backfill = (over: Partial<Extract<DataEvent, { type: 'backfill' }>> = {}): DataEvent => ({
    type: 'backfill', findings: [], olderThan: undefined, groups: [], clusters: [], runs: [], orchestrationRuns: [],
    orchestrations: [], agents: [], rollouts: [], ...over,
  });

  it('a snapshot without the deferred slices keeps them; the backfill puts older findings before the feed', () => {
    const before = reduce(fresh(), snapshot({ runs: [run('r0', 1)] }));
    const s1 = reduce(before, { type: 'snapshot', at: 1, me: { name: 'a', role: 'admin' }, hosts: [], summary: emptySummary(), findings: [finding(5), finding(6)], cursor: 6 });
    expect([...s1.runs.keys()]).toEqual(['r0']);
    expect(s1.loaded).toBe(true);
    // A finding streamed between the two steps stays; the backfill's copies of the page are not doubled.
    const streamed = reduce(s1, { type: 'stream', messages: [{ type: 'finding', cursor: 7, finding: finding(7) }] });
    const s2 = reduce(streamed, backfill({ findings: [finding(3), finding(4), finding(5), finding(6)], olderThan: 5, runs: [run('r1', 2)] }));
    expect(s2.findings.toArray().map((f) => f.id)).toEqual([3, 4, 5, 6, 7]);
    expect([...s2.runs.keys()].sort()).toEqual(['r0', 'r1']);
    expect(s2.cursor).toBe(7);
  });

  it('a backfill without olderThan leaves the feed as it is', () => {
    const s1 = reduce(fresh(), snapshot({ findings: [finding(1)] }));
    expect(reduce(s1, backfill({ findings: [finding(1), finding(2)] })).findings).toBe(s1.findings);
  });
});

describe('reduce: connection', () => {
  it('tracks state changes and counts open → connecting after the first open', () => {
    let s = fresh();
    s = reduce(s, { type: 'connection', state: 'connecting', detail: 'ECONNREFUSED', at: 10 });
    expect(s.connection).toEqual({ state: 'connecting', detail: 'ECONNREFUSED', since: 7, reconnects: 0 });
    s = reduce(s, { type: 'connection', state: 'open', detail: null, at: 20 });
    expect(s.connection).toEqual({ state: 'open', detail: null, since: 20, reconnects: 0 });
    const same = reduce(s, { type: 'connection', state: 'open', detail: null, at: 25 });
    expect(same).toBe(s);
    s = reduce(s, { type: 'connection', state: 'connecting', detail: 'closed by the CP', at: 30 });
    s = reduce(s, { type: 'connection', state: 'connecting', detail: 'retrying', at: 35 });
    expect(s.connection).toEqual({ state: 'connecting', detail: 'retrying', since: 30, reconnects: 1 });
    s = reduce(s, { type: 'connection', state: 'open', detail: null, at: 40 });
    s = reduce(s, { type: 'connection', state: 'connecting', detail: null, at: 50 });
    expect(s.connection.reconnects).toBe(2);
    s = reduce(s, { type: 'connection', state: 'closed', detail: 'OKS_ERR_TOKEN_REVOKED', at: 60 });
    expect(s.connection).toMatchObject({ state: 'closed', since: 60, reconnects: 2 });
  });
});

describe('reduce: details', () => {
  it('keeps the newest LIMITS.findingEvents finding events, re-fetching one makes it newest', () => {
    let s = fresh();
    for (let id = 0; id < LIMITS.findingEvents; id++) s = reduce(s, { type: 'finding-detail', id, event: { id } });
    s = reduce(s, { type: 'finding-detail', id: 0, event: { id: 0, again: true } });
    s = reduce(s, { type: 'finding-detail', id: 999, event: {} });
    expect(s.details.findingEvents.size).toBe(LIMITS.findingEvents);
    expect(s.details.findingEvents.get(0)).toEqual({ id: 0, again: true });
    expect(s.details.findingEvents.has(1)).toBe(false);
    expect(s.details.findingEvents.has(999)).toBe(true);
  });

  it('appends transcript pages of the same run (bounded), a new run replaces, close clears', () => {
    let s = reduce(fresh(), { type: 'transcript', runId: 'r1', events: events(1, 3), next: 3, ended: false });
    s = reduce(s, { type: 'transcript', runId: 'r1', events: events(4, LIMITS.transcript), next: 3 + LIMITS.transcript, ended: true });
    const t = s.details.transcript;
    expect(t).toMatchObject({ runId: 'r1', next: 3 + LIMITS.transcript, ended: true });
    expect(t?.events.size).toBe(LIMITS.transcript);
    expect(t?.events.newest(0)?.seq).toBe(3 + LIMITS.transcript);
    const empty = reduce(s, { type: 'transcript', runId: 'r1', events: [], next: 3 + LIMITS.transcript, ended: true });
    expect(empty).toBe(s);
    s = reduce(s, { type: 'transcript', runId: 'r2', events: events(1, 1, 'r2'), next: 1, ended: false });
    expect(s.details.transcript?.events.toArray().map((e) => e.run_id)).toEqual(['r2']);
    s = reduce(s, { type: 'transcript-close' });
    expect(s.details.transcript).toBeNull();
    expect(reduce(s, { type: 'transcript-close' })).toBe(s);
  });
});

describe('reduce: action answers', () => {
  it('run and orchestration-run upsert', () => {
    let s = reduce(fresh(), { type: 'run', run: run('r1', 1) });
    s = reduce(s, { type: 'run', run: run('r1', 1, { status: 'cancelled' }) });
    expect([...s.runs.values()].map((r) => r.status)).toEqual(['cancelled']);
    s = reduce(s, { type: 'orchestration-run', run: orchRun('o1', 1, { status: 'approval_required' }) });
    expect(s.orchestrationRuns.get('o1')?.status).toBe('approval_required');
  });
});
