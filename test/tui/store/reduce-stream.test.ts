import { describe, expect, it } from 'vitest';
import { initialState } from '../../../tui/store/initial-state.js';
import { reduce } from '../../../tui/store/reduce.js';
import { LIMITS, type ConsoleState } from '../../../tui/store/state.js';
import { finding, findingMessages, host, orchRun, run, snapshot, stream, triage } from './fixtures.js';

const start = (): ConsoleState => reduce(initialState('https://cp:8443', 0), snapshot({ cursor: 10 }));

describe('reduce: stream findings', () => {
  it('pushes findings into the feed and counts them into the summary', () => {
    const f1 = finding(11, { severity: 'CRITICAL', host: 'db-01', agent: 'net', category: 'network' });
    const f2 = finding(12, { status: 'acknowledged' });
    const s = reduce(start(), stream(...findingMessages([f1, f2])));
    expect(s.findings.toArray()).toEqual([f1, f2]);
    expect(s.cursor).toBe(12);
    expect(s.summary.total).toBe(2);
    expect(s.summary.by_severity).toMatchObject({ CRITICAL: 1, HIGH: 1, MEDIUM: 0 });
    expect(s.summary.by_category).toEqual({ network: 1, process: 1 });
    expect(s.summary.by_agent).toEqual({ net: 1, 'proc-audit': 1 });
    expect(s.summary.by_status).toMatchObject({ open: 1, acknowledged: 1 });
    expect(s.summary.open_by_severity).toMatchObject({ CRITICAL: 1, HIGH: 0 });
    expect(s.summary.open_by_host).toBeUndefined();
  });

  it('counts open findings per host when the summary has open_by_host', () => {
    const withHosts = reduce(initialState('cp', 0), snapshot({ cursor: 0, summary: { ...start().summary, open_by_host: { 'web-01': 2 } } }));
    const s = reduce(withHosts, stream(...findingMessages([finding(1), finding(2, { host: 'db-01' })])));
    expect(s.summary.open_by_host).toEqual({ 'web-01': 3, 'db-01': 1 });
  });

  it('ignores replayed messages (cursor <= the current one): nothing is counted twice', () => {
    const fs = [finding(11), finding(12), finding(13)];
    const once = reduce(start(), stream(...findingMessages(fs)));
    const replayed = reduce(once, stream(...findingMessages(fs)));
    expect(replayed).toBe(once);
    const overlap = reduce(once, stream(...findingMessages([finding(12), finding(13), finding(14)])));
    expect(overlap.findings.toArray().map((f) => f.id)).toEqual([11, 12, 13, 14]);
    expect(overlap.summary.total).toBe(4);
    // Messages at or below the snapshot's cursor were in the snapshot.
    const s0 = start();
    expect(reduce(s0, stream(...findingMessages([finding(9), finding(10)])))).toBe(s0);
  });

  it('holds the newest LIMITS.feed of 10,000 findings and counts them all', () => {
    let s = start();
    for (let i = 0; i < 100; i++) {
      const batch = Array.from({ length: 100 }, (_, j) => finding(11 + i * 100 + j));
      s = reduce(s, stream(...findingMessages(batch)));
    }
    expect(s.findings.size).toBe(LIMITS.feed);
    expect(s.findings.newest(0)?.id).toBe(10_010);
    expect(s.findings.toArray()[0]?.id).toBe(10_011 - LIMITS.feed);
    expect(s.summary.total).toBe(10_000);
  });

  it('keeps the identity of slices a batch did not touch', () => {
    const s0 = start();
    const s = reduce(s0, stream({ type: 'finding', cursor: 11, finding: finding(11) }));
    expect(s.hosts).toBe(s0.hosts);
    expect(s.runs).toBe(s0.runs);
    expect(s.orchestrationRuns).toBe(s0.orchestrationRuns);
    expect(s.ui).toBe(s0.ui);
    expect(s.groups).toBe(s0.groups);
    const h = reduce(s, stream({ type: 'host', cursor: 12, host: host('web-01') }));
    expect(h.findings).toBe(s.findings);
    expect(h.summary).toBe(s.summary);
  });
});

describe('reduce: stream hosts, runs, ready, error', () => {
  it('replaces a host in the map', () => {
    const s0 = reduce(initialState('cp', 0), snapshot({ cursor: 1, hosts: [host('a'), host('b')] }));
    const s = reduce(s0, stream({ type: 'host', cursor: 2, host: host('a', { state: 'offline' }) }, { type: 'host', cursor: 3, host: host('c') }));
    expect(s.hosts.get('a')?.state).toBe('offline');
    expect(s.hosts.get('b')).toBe(s0.hosts.get('b'));
    expect([...s.hosts.keys()]).toEqual(['a', 'b', 'c']);
    expect(s0.hosts.get('a')?.state).toBe('online');
  });

  it('upserts runs, bounded to the newest LIMITS.runs by created_at', () => {
    let s = start();
    const msgs = Array.from({ length: LIMITS.runs + 10 }, (_, i) => ({ type: 'run' as const, cursor: 11 + i, run: run(`r${i}`, 1000 - i) }));
    s = reduce(s, stream(...msgs));
    expect(s.runs.size).toBe(LIMITS.runs);
    // Created in decreasing time: the last ten are the oldest and were dropped.
    expect(s.runs.has('r0')).toBe(true);
    expect(s.runs.has(`r${LIMITS.runs + 9}`)).toBe(false);
    const updated = reduce(s, stream({ type: 'run', cursor: 10_000, run: run('r0', 1000, { status: 'completed' }) }));
    expect(updated.runs.get('r0')?.status).toBe('completed');
    expect(updated.runs.size).toBe(LIMITS.runs);
  });

  it('upserts orchestration runs, bounded to LIMITS.orchestrationRuns', () => {
    const msgs = Array.from({ length: LIMITS.orchestrationRuns + 1 }, (_, i) => ({ type: 'orchestration_run' as const, cursor: 11 + i, run: orchRun(`o${i}`, i) }));
    const s = reduce(start(), stream(...msgs));
    expect(s.orchestrationRuns.size).toBe(LIMITS.orchestrationRuns);
    expect(s.orchestrationRuns.has('o0')).toBe(false);
    expect(s.orchestrationRuns.has(`o${LIMITS.orchestrationRuns}`)).toBe(true);
  });

  it('ready sets the cursor only (also backwards, when the CP feed was reset)', () => {
    const s0 = start();
    const s = reduce(s0, stream({ type: 'ready', cursor: 50 }));
    expect(s.cursor).toBe(50);
    expect(s.findings).toBe(s0.findings);
    expect(reduce(s, stream({ type: 'ready', cursor: 3 })).cursor).toBe(3);
  });

  it('an error message raises a flash dated by the batch', () => {
    const s = reduce(start(), stream({ type: 'error', code: 'OKS_ERR_STREAM_GAP', message: 'lost some' }));
    expect(s.ui.flash).toEqual({ text: 'OKS_ERR_STREAM_GAP: lost some', level: 'warn', at: 42 });
    expect(s.cursor).toBe(10);
  });
});

describe('reduce: triage', () => {
  const f1 = finding(11, { fingerprint: 'g', severity: 'CRITICAL' });
  const f2 = finding(12, { fingerprint: 'g', host: 'db-01' });
  const f3 = finding(13, { fingerprint: 'other' });
  const loaded = (): ConsoleState => {
    const s = reduce(initialState('cp', 0), snapshot({ cursor: 10, summary: { ...start().summary, open_by_host: {} } }));
    return reduce(s, stream(...findingMessages([f1, f2, f3])));
  };

  it('scope finding: maps that finding and moves its open counts', () => {
    const s0 = loaded();
    const s = reduce(s0, stream({ type: 'triage', cursor: 20, triage: triage(f1, 'acknowledged') }));
    expect(s.findings.toArray().map((f) => f.status)).toEqual(['acknowledged', 'open', 'open']);
    expect(s.summary.by_status).toMatchObject({ open: 2, acknowledged: 1 });
    expect(s.summary.open_by_severity).toMatchObject({ CRITICAL: 0, HIGH: 2 });
    expect(s.summary.open_by_host).toEqual({ 'web-01': 1, 'db-01': 1 });
    expect(s.summary.total).toBe(3);
    expect(s.cursor).toBe(20);
  });

  it('scope group: maps every finding of the fingerprint', () => {
    const s = reduce(loaded(), stream({ type: 'triage', cursor: 20, triage: triage(f1, 'resolved', 'group') }));
    expect(s.findings.toArray().map((f) => f.status)).toEqual(['resolved', 'resolved', 'open']);
    expect(s.summary.by_status).toMatchObject({ open: 1, resolved: 2 });
    expect(s.summary.open_by_host).toEqual({ 'web-01': 1, 'db-01': 0 });
  });

  it('the action answer then the stream echo change the counts once; reopening counts back', () => {
    const s0 = loaded();
    const answered = reduce(s0, { type: 'triaged', triage: triage(f1, 'false_positive') });
    const echoed = reduce(answered, stream({ type: 'triage', cursor: 20, triage: triage(f1, 'false_positive') }));
    expect(echoed.summary).toBe(answered.summary);
    expect(echoed.findings).toBe(answered.findings);
    expect(echoed.summary.by_status).toMatchObject({ open: 2, false_positive: 1 });
    const reopened = reduce(echoed, { type: 'triaged', triage: triage(f1, 'open') });
    expect(reopened.summary.by_status).toMatchObject({ open: 3, false_positive: 0 });
    expect(reopened.summary.open_by_severity).toMatchObject({ CRITICAL: 1 });
  });

  it('a triage of a finding outside the feed keeps state identity (triaged) or only moves the cursor (stream)', () => {
    const s0 = loaded();
    const gone = finding(99);
    expect(reduce(s0, { type: 'triaged', triage: triage(gone, 'acknowledged') })).toBe(s0);
    const s = reduce(s0, stream({ type: 'triage', cursor: 21, triage: triage(gone, 'acknowledged') }));
    expect(s.findings).toBe(s0.findings);
    expect(s.summary).toBe(s0.summary);
  });

  it('a triage in the same batch as the finding applies to it', () => {
    const s0 = reduce(initialState('cp', 0), snapshot({ cursor: 0 }));
    const f = finding(1);
    const s = reduce(s0, stream({ type: 'finding', cursor: 1, finding: f }, { type: 'triage', cursor: 2, triage: triage(f, 'acknowledged') }));
    expect(s.findings.newest(0)?.status).toBe('acknowledged');
    expect(s.summary.by_status).toMatchObject({ open: 0, acknowledged: 1 });
  });
});
