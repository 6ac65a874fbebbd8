import { describe, expect, it } from 'vitest';
import type { OperatorClient, RunEventsPage } from '../../../src/transport/operator-client.js';
import { createConsoleClient } from '../../../tui/client/console-client.js';
import { hostsInterval } from '../../../tui/client/refreshers.js';
import { createConsoleStore } from '../../../tui/store/console-store.js';
import { initialState } from '../../../tui/store/initial-state.js';
import { reduce } from '../../../tui/store/reduce.js';
import { finding, findingMessages, run, triage } from '../store/fixtures.js';
import { FAKE_CONFIG, fakeApi, fakeStreams, silentLog } from './fake-api.js';
import { ManualTimers } from './manual-timers.js';

function setup(extra: Partial<OperatorClient> = {}) {
  const timers = new ManualTimers();
  const store = createConsoleStore(initialState(FAKE_CONFIG.cp, 0), reduce);
  const fake = fakeApi();
  const streams = fakeStreams();
  const client = createConsoleClient({
    config: FAKE_CONFIG, store, log: silentLog, client: { ...fake.api, ...extra }, openStream: streams.open, timers, now: () => timers.now,
  });
  return { timers, store, fake, streams, client };
}

describe('console client (fake CP)', () => {
  it('starts while the CP is down, says so, retries with backoff and fills in when it comes up', async () => {
    const { timers, store, fake, streams, client } = setup();
    fake.setDown(true);
    await client.start();
    const s = store.getState();
    expect(s.loaded).toBe(false);
    expect(s.connection.state).toBe('connecting');
    expect(s.connection.detail).toMatch(/ECONNREFUSED.*retrying in/);
    expect(s.ui.flash).toMatchObject({ level: 'error' });
    expect(streams.streams).toHaveLength(0);
    const [delay] = timers.pending();
    expect(delay).toBeGreaterThanOrEqual(250);
    expect(delay).toBeLessThanOrEqual(500);
    await timers.advance(delay as number);
    expect(fake.calls.get('whoami')).toBe(2);
    // The second delay doubles (with jitter).
    expect(timers.pending()[0]).toBeGreaterThanOrEqual(500);
    fake.setDown(false);
    await timers.advance(1000);
    expect(store.getState().loaded).toBe(true);
    expect(store.getState().me).toEqual({ name: 'alice', role: 'operator' });
    expect(streams.streams).toHaveLength(1);
    expect(streams.streams[0]?.opts.after).toBe(10);
    expect(streams.streams[0]?.opts.kinds).toBeUndefined();
    client.stop();
  });

  it('batches a burst of stream messages into one store update', async () => {
    const { timers, store, streams, client } = setup();
    await client.start();
    const stream = streams.streams[0];
    let updates = 0;
    store.subscribe(() => updates++);
    stream?.push(...findingMessages(Array.from({ length: 1000 }, (_, i) => finding(11 + i))));
    expect(updates).toBe(0);
    await timers.advance(30);
    expect(updates).toBe(1);
    expect(store.getState().findings.size).toBe(1000);
    expect(store.getState().cursor).toBe(1010);
    client.stop();
  });

  it('reports connection states; a stream gap reloads and follows from the new cursor', async () => {
    const { timers, store, fake, streams, client } = setup();
    await client.start();
    const first = streams.streams[0];
    first?.opts.onState?.('open');
    expect(store.getState().connection.state).toBe('open');
    first?.opts.onState?.('connecting', 'closed by the CP (1006); retrying in 300 ms');
    expect(store.getState().connection).toMatchObject({ state: 'connecting', reconnects: 1 });
    first?.opts.onState?.('open');
    fake.cursor.value = 500;
    first?.opts.onState?.('open', 'OKS_ERR_STREAM_GAP: cursor 10, oldest retained 400; continuing from the head');
    await timers.advance(0);
    expect(first?.closed).toBe(true);
    expect(fake.calls.get('whoami')).toBe(2);
    expect(streams.streams).toHaveLength(2);
    expect(streams.streams[1]?.opts.after).toBe(500);
    expect(store.getState().cursor).toBe(500);
    // The old stream's late messages are ignored.
    first?.push({ type: 'finding', cursor: 600, finding: finding(600) });
    await timers.advance(30);
    expect(store.getState().findings.size).toBe(0);
    client.stop();
  });

  it('refreshes hosts, counts and the library on their schedules, and counts ~1 s after a triage', async () => {
    const { timers, fake, streams, client } = setup();
    await client.start();
    const count = (name: string): number => fake.calls.get(name) ?? 0;
    expect(hostsInterval(2)).toBe(5000);
    expect(hostsInterval(10_000)).toBe(25_000);
    await timers.advance(5000);
    expect(count('hosts')).toBe(2);
    expect(count('findingsSummaryByHost')).toBe(1);
    await timers.advance(5000);
    expect(count('hosts')).toBe(3);
    expect(count('findingsSummaryByHost')).toBe(2);
    expect(count('findingGroups')).toBe(2);
    streams.streams[0]?.push({ type: 'triage', cursor: 11, triage: triage(finding(1), 'acknowledged') });
    await timers.advance(30 + 999);
    expect(count('findingsSummaryByHost')).toBe(2);
    await timers.advance(1);
    expect(count('findingsSummaryByHost')).toBe(3);
    await timers.advance(60_000 - 11_030);
    expect(count('listAgents')).toBe(2);
    client.stop();
    expect(timers.pending()).toEqual([]);
    await timers.advance(120_000);
    expect(count('hosts')).toBe(Math.floor(60_000 / 5000) + 1);
  });

  it('actions apply the answer and flash; a failure flashes the error and resolves', async () => {
    const { store, fake, client } = setup();
    await client.start();
    await client.actions.approveStep('o1', 'contain');
    expect(store.getState().ui.flash?.text).toBe('approved step contain');
    expect(store.getState().orchestrationRuns.get('o1')?.status).toBe('running');
    fake.setDown(true);
    await expect(client.actions.rejectStep('o1', 'contain')).resolves.toBeUndefined();
    expect(store.getState().ui.flash).toMatchObject({ level: 'error' });
    expect(store.getState().ui.flash?.text).toBe('rejecting step contain failed: https://cp.invalid:8443: connect ECONNREFUSED');
    expect(fake.calls.get('rejectStep')).toBe(1);
    client.stop();
  });

  it('a new follow replaces the old one: a late page of the old run is dropped', async () => {
    const pages = new Map<string, (page: RunEventsPage) => void>();
    const polls: string[] = [];
    const { store, client } = setup({
      runEvents: (id) => {
        polls.push(id);
        return new Promise<RunEventsPage>((resolve) => pages.set(id, resolve));
      },
    });
    const page = (id: string, status: 'running' | 'completed'): RunEventsPage => ({
      run: run(id, 1, { status }), events: [{ type: 'log', ts: 1, host: 'web-01', agent: 'a', run_id: id, seq: 1 }], next: 1,
    });
    client.actions.followTranscript('r1');
    client.actions.followTranscript('r2');
    pages.get('r2')?.(page('r2', 'completed'));
    await new Promise((r) => setImmediate(r));
    pages.get('r1')?.(page('r1', 'running'));
    await new Promise((r) => setImmediate(r));
    expect(store.getState().details.transcript).toMatchObject({ runId: 'r2', ended: true });
    expect(polls).toEqual(['r1', 'r2']);
    client.stop();
  });
});

