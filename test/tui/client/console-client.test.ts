import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createConsoleClient, type ConsoleClient } from '../../../tui/client/console-client.js';
import { realTimers, type Timers } from '../../../tui/client/timers.js';
import { createConsoleStore, type ConsoleStore } from '../../../tui/store/console-store.js';
import { initialState } from '../../../tui/store/initial-state.js';
import { reduce } from '../../../tui/store/reduce.js';
import type { ConsoleState } from '../../../tui/store/state.js';
import {
  asTicks, findingRecord, runId, sendEvents, startCp, waitFor, type CpHarness, type HostIdentity, type TestSocket,
} from '../../cp/cp-harness.js';
import { fakeDaimons, start as startOrchestration, waitRun } from '../../cp/orchestration/orch-helpers.js';
import { silentLog } from './fake-api.js';
import { loadSnapshot } from '../../../tui/client/load-snapshot.js';
import { createOperatorClient } from '../../../src/transport/operator-client.js';

// The periodic refreshes (5 s and longer) would re-read exact counts and hide double counting: tests run without
// them, so every count in the store comes from the snapshot and the stream alone.
const noRefreshTimers: Timers = {
  setTimeout: (fn, ms) => (ms >= 5000 ? undefined : realTimers.setTimeout(fn, ms)),
  clearTimeout: (handle) => {
    if (handle !== undefined) realTimers.clearTimeout(handle);
  },
};

let h: CpHarness;
let web01: HostIdentity;
let tunnel: TestSocket;
let store: ConsoleStore;
let client: ConsoleClient | undefined;

beforeEach(async () => {
  h = await startCp();
  web01 = await h.registerHost('web-01');
  tunnel = await h.connectHost(web01);
  store = createConsoleStore(initialState(h.adminConfig.cp, Date.now()), reduce);
});
afterEach(async () => {
  client?.stop();
  client = undefined;
  await h.close();
});

/** Ingests findings with these titles through the host's tunnel (one run). */
async function ingest(titles: string[], over: Record<string, unknown> = {}): Promise<void> {
  const run = runId();
  await sendEvents(tunnel, asTicks(titles.map((title, i) => findingRecord(run, i + 1, { title, ...over }))));
}

function startClient(): ConsoleClient {
  client = createConsoleClient({ config: h.adminConfig, store, log: silentLog, timers: noRefreshTimers });
  void client.start();
  return client;
}

const state = (): ConsoleState => store.getState();
const titles = (): string[] => state().findings.toArray().map((f) => f.title);
const until = (what: string, pred: (s: ConsoleState) => boolean, ms = 8000) => waitFor(() => pred(state()), ms, what);

describe('console client against a real CP', () => {
  it('loads a snapshot (me, hosts, findings, counts), then streams new findings into the store', async () => {
    await ingest(['a', 'b', 'c']);
    startClient();
    await until('the snapshot', (s) => s.loaded);
    expect(state().me).toEqual({ name: 'admin', role: 'admin' });
    expect([...state().hosts.keys()]).toEqual(['web-01']);
    expect(titles()).toEqual(['a', 'b', 'c']);
    expect(state().summary.total).toBe(3);
    expect(state().summary.open_by_host).toEqual({ 'web-01': 3 });

    await until('the stream to open', (s) => s.connection.state === 'open');
    await ingest(['d', 'e'], { severity: 'CRITICAL' });
    await until('streamed findings', (s) => s.findings.size === 5);
    expect(titles()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(state().summary.total).toBe(5);
    expect(state().summary.open_by_severity['CRITICAL']).toBe(2);
    expect(state().summary.open_by_host).toEqual({ 'web-01': 5 });
  });

  it('takes a snapshot started before it (okesu console prefetches it) and streams on from its cursor, nothing twice', async () => {
    await ingest(['a', 'b']);
    // A stamp no load of the client's own makes: the state must show it came from this snapshot.
    const firstSnapshot = loadSnapshot(createOperatorClient(h.adminConfig), () => 1234);
    await firstSnapshot;
    // Stored after the prefetched snapshot was taken: the stream from its cursor must bring it, once.
    await ingest(['c']);
    client = createConsoleClient({ config: h.adminConfig, store, log: silentLog, timers: noRefreshTimers, firstSnapshot });
    void client.start();
    await until('the prefetched snapshot', (s) => s.loaded);
    await until('the finding stored after it', (s) => s.findings.size === 3);
    expect(titles()).toEqual(['a', 'b', 'c']);
    expect(state().summary.total).toBe(3);
    expect(state().hostsRefreshedAt).toBe(1234);
  });

  it('a prefetched snapshot that failed is retried like any load', async () => {
    await ingest(['a']);
    const firstSnapshot = Promise.reject(new Error('connect ECONNREFUSED (prefetch)'));
    firstSnapshot.catch(() => undefined);
    client = createConsoleClient({ config: h.adminConfig, store, log: silentLog, timers: noRefreshTimers, firstSnapshot });
    void client.start();
    await until('the snapshot after the failed prefetch', (s) => s.loaded, 15_000);
    expect(titles()).toEqual(['a']);
  });

  it('starts while the CP is down, shows connecting, and fills in when it comes up', async () => {
    const port = h.port;
    await h.cp.stop();
    startClient();
    await until('a load failure', (s) => s.connection.detail !== null);
    expect(state().connection.state).toBe('connecting');
    expect(state().connection.detail).toMatch(/ECONNREFUSED/);
    expect(state().loaded).toBe(false);
    h = await startCp({ stateDir: h.stateDir, options: { port } });
    await until('the snapshot after the CP came up', (s) => s.loaded && s.connection.state === 'open', 15_000);
    expect([...state().hosts.keys()]).toEqual(['web-01']);
  });

  it('a stream cut by a CP restart resumes from its cursor: nothing lost, nothing counted twice', async () => {
    await ingest(['a', 'b']);
    startClient();
    await until('the stream to open', (s) => s.loaded && s.connection.state === 'open');
    await ingest(['c']);
    await until('c', (s) => s.findings.size === 3);

    const port = h.port;
    await h.cp.stop();
    await until('the drop to be seen', (s) => s.connection.state === 'connecting');
    h = await startCp({ stateDir: h.stateDir, options: { port } });
    tunnel = await h.connectHost(web01);
    await ingest(['d', 'e']);
    await until('the resumed stream', (s) => s.connection.state === 'open' && s.findings.size >= 5, 15_000);
    await ingest(['f']);
    await until('f', (s) => s.findings.size >= 6);
    expect(titles()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(new Set(state().findings.toArray().map((f) => f.id)).size).toBe(6);
    expect(state().summary.total).toBe(6);
    expect(state().summary.by_status['open']).toBe(6);
    expect(state().connection.reconnects).toBe(1);
  });

  it('triage reaches the CP, flashes, and the stream echo does not count it twice', async () => {
    await ingest(['a', 'b']);
    startClient();
    await until('the stream to open', (s) => s.loaded && s.connection.state === 'open');
    const [first] = state().findings.toArray();
    const cursor = state().cursor ?? 0;
    await client?.actions.triage(first?.id ?? 0, 'acknowledged', 'finding');
    expect(state().ui.flash).toMatchObject({ text: 'acknowledged 1 finding', level: 'info' });
    expect((await h.admin.getFinding(first?.id ?? 0)).finding.status).toBe('acknowledged');
    await until('the triage echo on the stream', (s) => (s.cursor ?? 0) > cursor);
    expect(state().findings.toArray().map((f) => f.status)).toEqual(['acknowledged', 'open']);
    expect(state().summary.by_status).toMatchObject({ open: 1, acknowledged: 1 });
    expect(state().summary.open_by_host).toEqual({ 'web-01': 1 });
  });

  it('group triage changes every finding of the fingerprint; a refused triage flashes the error', async () => {
    await ingest(['same'], { resource: 'binary:/tmp/x' });
    await ingest(['same'], { resource: 'binary:/tmp/x' });
    await ingest(['other']);
    startClient();
    await until('the stream to open', (s) => s.loaded && s.connection.state === 'open');
    const [a, b] = state().findings.toArray();
    expect(a?.fingerprint).toBe(b?.fingerprint);
    await client?.actions.triage(a?.id ?? 0, 'resolved', 'group');
    expect(state().ui.flash?.text).toBe('resolved 2 findings');
    await until('the echo', (s) => s.summary.by_status['resolved'] === 2);
    expect(state().findings.toArray().map((f) => f.status)).toEqual(['resolved', 'resolved', 'open']);
    expect(state().summary.by_status['open']).toBe(1);

    await client?.actions.triage(999_999, 'resolved', 'finding');
    expect(state().ui.flash).toMatchObject({ level: 'error' });
    expect(state().ui.flash?.text).toMatch(/^triage of finding 999999 failed: .*no finding 999999/);
  });

  it('a false positive flashes where to get the host suppression it suggests', async () => {
    await ingest(['noisy']);
    startClient();
    await until('the stream to open', (s) => s.loaded && s.connection.state === 'open');
    const [f] = state().findings.toArray();
    await client?.actions.triage(f?.id ?? 0, 'false_positive', 'group');
    expect(state().ui.flash?.text).toBe(`marked false positive 1 finding · to drop it on the host: okesu findings triage ${f?.id} false_positive prints a policy suppress: entry`);
  });

  it('approving a waiting step reaches the CP and the run moves on in the store', async () => {
    await fakeDaimons(h, ['db-01'], (env) => ({ result: env.agent === 'edr' ? { pid: 7 } : {} }));
    const spec = `
name: gated
steps:
  - { id: scan, agent: edr, node: db-01 }
  - { id: contain, agent: forensic, node: db-01, approval: required }
`;
    startClient();
    await until('the stream to open', (s) => s.loaded && s.connection.state === 'open');
    const begun = await startOrchestration(h, { spec });
    await waitRun(h, begun.id, (r) => r.status === 'approval_required');
    await until('the waiting run in the store', (s) => s.orchestrationRuns.get(begun.id)?.status === 'approval_required');
    await client?.actions.approveStep(begun.id, 'contain');
    expect(state().ui.flash?.text).toBe('approved step contain');
    await until('the completed run', (s) => s.orchestrationRuns.get(begun.id)?.status === 'completed');
    expect((await h.admin.getOrchestrationRun(begun.id)).status).toBe('completed');
  });

  it('dispatches an agent, follows its transcript to the end, and opens a finding', async () => {
    await fakeDaimons(h, ['db-01'], () => ({ findings: [{ title: 'odd binary', severity: 'HIGH' }] }));
    startClient();
    await until('the stream to open', (s) => s.loaded && s.connection.state === 'open');
    const ids = await client?.actions.dispatchAgent({ host: 'db-01', agent: 'edr' });
    expect(ids).toHaveLength(1);
    const id = ids?.[0] ?? '';
    expect(state().ui.flash?.text).toBe(`dispatched edr to db-01 (${id})`);
    expect(state().runs.has(id)).toBe(true);
    client?.actions.followTranscript(id);
    await until('the ended transcript', (s) => s.details.transcript?.ended === true);
    const events = state().details.transcript?.events.toArray() ?? [];
    expect(events.map((e) => e.type)).toEqual(['run_start', 'finding', 'run_end']);
    expect(state().details.transcript?.runId).toBe(id);
    client?.actions.stopTranscript();
    expect(state().details.transcript).toBeNull();

    await until('the streamed finding', (s) => s.findings.toArray().some((f) => f.title === 'odd binary'));
    const f = state().findings.toArray().find((x) => x.title === 'odd binary');
    client?.actions.openFinding(f?.id ?? 0);
    await until('the raw event', (s) => s.details.findingEvents.has(f?.id ?? 0));
    expect(state().details.findingEvents.get(f?.id ?? 0)).toMatchObject({ type: 'finding', title: 'odd binary' });
    const fanOut = await client?.actions.dispatchAgent({ hosts: ['db-01', 'web-01'], agent: 'edr' });
    expect(fanOut).toHaveLength(2);
    expect(state().ui.flash?.text).toMatch(/^dispatched edr to 2 hosts/);
  });
});
