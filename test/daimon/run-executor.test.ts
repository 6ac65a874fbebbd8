import { describe, expect, it } from 'vitest';
import type { EventBody, RunEndStatus } from '../../src/protocol/event.js';
import { executeRun } from '../../daimon/run-executor.js';
import type { ExecuteRunOptions } from '../../daimon/run-executor.js';
import { createDaimonCounters } from '../../daimon/metrics/daimon-counters.js';
import type { Provider, ProviderOutcome } from '../../daimon/provider.js';
import { createCustomProvider } from '../../daimon/providers/custom-provider.js';
import { customAgent, fixture, isGone, memoryLogger, recorder, waitFor } from './run-helpers.js';

const RUN_ID = 'r_01JD0000000000000000000000';

/** A provider from a function. */
const provider = (run: Provider['run']): Provider => ({ run });

/** Resolves once `signal` aborts. */
const aborted = (signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));

function setup(p: Provider, overrides: Partial<ExecuteRunOptions> = {}) {
  const { events, emit } = recorder();
  let clock = 1_000;
  const opts: ExecuteRunOptions = {
    runId: RUN_ID,
    hostname: 'web-1',
    agent: customAgent(['true']),
    prompt: 'look around',
    inputs: {},
    timeoutMs: 30_000,
    signal: new AbortController().signal,
    provider: p,
    emit,
    log: memoryLogger(),
    now: () => (clock += 250),
    ...overrides,
  };
  return { events, run: (): Promise<RunEndStatus> => executeRun(opts) };
}

const runEnds = (events: EventBody[]) => events.filter((e) => e.type === 'run_end');

describe('executeRun', () => {
  it('wraps the provider events in run_start and one run_end with counts and usage', async () => {
    const { events, run } = setup(provider(async (ctx, emit) => {
      expect(ctx).toMatchObject({ runId: RUN_ID, hostname: 'web-1', prompt: 'look around' });
      await emit({ type: 'text', text: 'hi' });
      await emit({ type: 'finding', severity: 'HIGH', title: 'a' });
      await emit({ type: 'finding', severity: 'LOW', title: 'b' });
      return { status: 'completed', usage: { input_tokens: 10, output_tokens: 5 } };
    }));
    expect(await run()).toBe('completed');
    expect(events).toEqual([
      { type: 'run_start', agent: 'probe', version: '1.2.3', prompt: 'look around', timeout_ms: 30_000 },
      { type: 'text', text: 'hi' },
      { type: 'finding', severity: 'HIGH', title: 'a' },
      { type: 'finding', severity: 'LOW', title: 'b' },
      { type: 'run_end', status: 'completed', duration_ms: 250, findings: 2, usage: { input_tokens: 10, output_tokens: 5 } },
    ]);
  });

  it.each<[string, () => Promise<ProviderOutcome>, string]>([
    ['reports failed', async () => ({ status: 'failed', error: 'exit code 3' }), 'exit code 3'],
    ['throws', async () => { throw new Error('boom'); }, 'boom'],
  ])('fails when the provider %s', async (_label, outcome, error) => {
    const { events, run } = setup(provider(outcome));
    expect(await run()).toBe('failed');
    expect(runEnds(events)).toEqual([{ type: 'run_end', status: 'failed', duration_ms: 250, findings: 0, error }]);
  });

  it('keeps a provider’s own run_end out of the way: exactly one run_end', async () => {
    const { events, run } = setup(provider(async (_ctx, emit) => {
      await emit({ type: 'run_end', status: 'completed' });
      return { status: 'completed' };
    }));
    await run();
    expect(runEnds(events)).toHaveLength(1);
    expect(events[1]).toEqual({ type: 'provider_run_end', status: 'completed' });
  });

  it('cancels: the provider sees the abort and the run ends cancelled', async () => {
    const cancel = new AbortController();
    const { events, run } = setup(provider(async (ctx, emit) => {
      await emit({ type: 'text', text: 'working' });
      cancel.abort('operator asked');
      await aborted(ctx.signal);
      return { status: 'failed', error: 'killed by SIGTERM' };
    }), { signal: cancel.signal });
    expect(await run()).toBe('cancelled');
    expect(runEnds(events)).toEqual([{ type: 'run_end', status: 'cancelled', duration_ms: 250, findings: 0, error: 'operator asked' }]);
  });

  it('does not start the provider when already cancelled', async () => {
    const cancel = new AbortController();
    cancel.abort();
    let started = false;
    const { events, run } = setup(provider(async () => {
      started = true;
      return { status: 'completed' };
    }), { signal: cancel.signal });
    expect(await run()).toBe('cancelled');
    expect(started).toBe(false);
    expect(events.map((e) => e.type)).toEqual(['run_start', 'run_end']);
  });

  it('times out: an error event, then run_end timeout', async () => {
    const { events, run } = setup(provider(async (ctx) => {
      await aborted(ctx.signal);
      return { status: 'failed', error: 'killed by SIGTERM' };
    }), { timeoutMs: 50 });
    expect(await run()).toBe('timeout');
    expect(events.slice(1)).toEqual([
      { type: 'error', code: 'timeout', message: 'run exceeded its timeout of 50ms' },
      { type: 'run_end', status: 'timeout', duration_ms: 250, findings: 0, error: 'run exceeded its timeout of 50ms' },
    ]);
  });

  it('ends the run without a provider that ignores the abort, and drops its late events', async () => {
    let emitLate: (() => Promise<void>) | undefined;
    let finish: (o: ProviderOutcome) => void = () => {};
    const log = memoryLogger();
    const { events, run } = setup(provider((_ctx, emit) => {
      emitLate = () => emit({ type: 'text', text: 'too late' });
      return new Promise<ProviderOutcome>((resolve) => {
        finish = resolve;
      });
    }), { timeoutMs: 20, abortGraceMs: 50, log });
    expect(await run()).toBe('timeout');
    await emitLate?.();
    finish({ status: 'completed' });
    expect(events.map((e) => e.type)).toEqual(['run_start', 'error', 'run_end']);
    expect(log.lines.some((l) => l.msg === 'event after run_end dropped')).toBe(true);
  });

  it('waits for a slow emit: backpressure reaches the provider', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const seen: string[] = [];
    const emit = async (body: EventBody): Promise<void> => {
      seen.push(body.type);
      if (body.type === 'text') await gate;
    };
    const { run } = setup(provider(async (_ctx, e) => {
      await e({ type: 'text', text: 'a' });
      await e({ type: 'finding', severity: 'INFO', title: 'b' });
      return { status: 'completed' };
    }), { emit });
    const done = run();
    await waitFor(() => seen.includes('text'));
    expect(seen).toEqual(['run_start', 'text']);
    release();
    expect(await done).toBe('completed');
    expect(seen).toEqual(['run_start', 'text', 'finding', 'run_end']);
  });
});

describe('executeRun with the custom provider', () => {
  it('kills the whole process group on timeout', async () => {
    const { events, run } = setup(createCustomProvider(), { agent: customAgent(['sh', fixture('grandchild.sh')]), timeoutMs: 1000 });
    expect(await run()).toBe('timeout');
    const pid = Number(events.find((e) => e.type === 'grandchild')?.pid);
    expect(pid).toBeGreaterThan(0);
    expect(events.map((e) => e.type)).toEqual(['run_start', 'grandchild', 'error', 'run_end']);
    expect(events[2]).toMatchObject({ type: 'error', code: 'timeout' });
    await waitFor(() => isGone(pid), 10_000, `grandchild ${pid} to be gone`);
  });

  it('cancels a running executable', async () => {
    const cancel = new AbortController();
    const { events, run } = setup(createCustomProvider(), { agent: customAgent(['sh', fixture('grandchild.sh')]), signal: cancel.signal });
    const done = run();
    await waitFor(() => events.some((e) => e.type === 'grandchild'));
    cancel.abort();
    expect(await done).toBe('cancelled');
    const pid = Number(events.find((e) => e.type === 'grandchild')?.pid);
    await waitFor(() => isGone(pid), 10_000, `grandchild ${pid} to be gone`);
    expect(runEnds(events)).toEqual([expect.objectContaining({ status: 'cancelled', error: 'cancelled' })]);
  });

  it('fails on exit code 3 and counts the findings it relayed', async () => {
    const { events, run } = setup(createCustomProvider(), { agent: customAgent(['node', fixture('events.mjs'), '3']) });
    expect(await run()).toBe('failed');
    expect(runEnds(events)).toEqual([{ type: 'run_end', status: 'failed', duration_ms: 250, findings: 1, error: 'exit code 3' }]);
    expect(events.filter((e) => e.type === 'provider_run_end')).toHaveLength(1);
  });

  it('counts runs by final status, the active ones, and findings by severity in any case (metrics)', async () => {
    const counters = createDaimonCounters();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const { run } = setup(provider(async (_ctx, emit) => {
      await emit({ type: 'finding', severity: 'high', title: 'a' });
      await emit({ type: 'finding', severity: 'CRITICAL', title: 'b' });
      await emit({ type: 'finding', severity: 'bogus', title: 'c' });
      await held;
      return { status: 'completed' };
    }), { counters });
    const first = run();
    await waitFor(() => counters.findings.CRITICAL === 1, 5_000, 'the findings counted');
    expect(counters).toMatchObject({ runsStarted: 1, runsActive: 1, findings: { HIGH: 1, CRITICAL: 1, MEDIUM: 0 } });
    release();
    expect(await first).toBe('completed');
    const timedOut = setup(provider(async (ctx) => {
      await aborted(ctx.signal);
      return { status: 'failed' };
    }), { counters, timeoutMs: 10 });
    expect(await timedOut.run()).toBe('timeout');
    expect(counters).toMatchObject({ runsStarted: 2, runsActive: 0, runsFinished: { completed: 1, timeout: 1, failed: 0, cancelled: 0 } });
  });
});
