import { pino } from 'pino';
import type { StreamMessage } from '../../../src/protocol/api.js';
import type { ClientConfig } from '../../../src/protocol/client-config.js';
import type { OperatorClient } from '../../../src/transport/operator-client.js';
import type { StreamHandle, StreamOptions } from '../../../src/transport/stream-client.js';
import { emptySummary } from '../../../tui/store/initial-state.js';
import { host, orchRun, run } from '../store/fixtures.js';

/** A config that is never dialled (the fakes stand in for the network). */
export const FAKE_CONFIG: ClientConfig = { cp: 'https://cp.invalid:8443', ca: '', token: 'okt_x', name: '' };

/** A logger that drops everything. */
export const silentLog = pino({ level: 'silent' });

/**
 * An in-memory stand-in for the operator API: counts calls per method, can be switched "down" (every call rejects
 * like an unreachable CP), and answers with small fixed data.
 */
export function fakeApi(): { api: OperatorClient; calls: Map<string, number>; setDown(down: boolean): void; cursor: { value: number } } {
  const calls = new Map<string, number>();
  let down = false;
  const cursor = { value: 10 };
  const answer = <T>(name: string, value: () => T) => async (): Promise<T> => {
    calls.set(name, (calls.get(name) ?? 0) + 1);
    if (down) throw new Error('https://cp.invalid:8443: connect ECONNREFUSED');
    return value();
  };
  const api = {
    whoami: answer('whoami', () => ({ name: 'alice', role: 'operator' as const, token_id: 't1' })),
    hosts: answer('hosts', () => [host('web-01'), host('db-01', { state: 'stale' })]),
    findingsSummaryByHost: answer('findingsSummaryByHost', () => ({ ...emptySummary(), open_by_host: {} })),
    findings: answer('findings', () => ({ findings: [], cursor: cursor.value })),
    findingGroups: answer('findingGroups', () => []),
    findingClusters: answer('findingClusters', () => []),
    listRuns: answer('listRuns', () => [run('r1', 1)]),
    listOrchestrationRuns: answer('listOrchestrationRuns', () => [orchRun('o1', 1)]),
    listOrchestrations: answer('listOrchestrations', () => []),
    listAgents: answer('listAgents', () => []),
    approveStep: answer('approveStep', () => orchRun('o1', 1, { status: 'running' })),
    rejectStep: answer('rejectStep', () => orchRun('o1', 1, { status: 'failed' })),
  } satisfies Partial<OperatorClient>;
  return { api: api as unknown as OperatorClient, calls, setDown: (d) => { down = d; }, cursor };
}

/** A stream opened through `fakeStreams`: its options, to push messages and states, and whether it was closed. */
export interface FakeStream {
  opts: StreamOptions;
  closed: boolean;
  push(...messages: StreamMessage[]): void;
}

/** An `openStream` stand-in that records each stream opened. */
export function fakeStreams(): { open: (config: ClientConfig, opts: StreamOptions) => StreamHandle; streams: FakeStream[] } {
  const streams: FakeStream[] = [];
  const open = (_config: ClientConfig, opts: StreamOptions): StreamHandle => {
    const s: FakeStream = { opts, closed: false, push: (...ms) => ms.forEach((m) => opts.onMessage(m)) };
    streams.push(s);
    return {
      close: () => {
        s.closed = true;
        opts.onState?.('closed');
      },
      cursor: () => undefined,
    };
  };
  return { open, streams };
}
