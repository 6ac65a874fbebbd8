import { describe, expect, it } from 'vitest';
import { formatPoll, formatTransport, runStatusText } from '../../src/protocol/host-transport.js';

describe('host transport and run status text', () => {
  it.each([
    [{ transport: 'tunnel', path: 'tunnel' as const }, 'tunnel'],
    [{ transport: 'jobs', path: 'jobs' as const }, 'jobs'],
    [{ transport: 'auto', path: 'tunnel' as const }, 'auto (tunnel)'],
    [{ transport: 'auto', path: 'jobs' as const }, 'auto (jobs)'],
    [{ transport: 'auto', path: null }, 'auto'],
    [{ transport: '', path: null }, '-'],
  ])('shows %o as %s', (h, text) => expect(formatTransport(h)).toBe(text));

  it('shows the poll interval or a dash', () => {
    expect(formatPoll({ poll_ms: 10_000 })).toBe('10s');
    expect(formatPoll({ poll_ms: null })).toBe('-');
  });

  it('shows a jobs run still dispatched as queued in the bucket', () => {
    expect(runStatusText({ status: 'dispatched', route: 'jobs' })).toBe('queued (bucket)');
    expect(runStatusText({ status: 'dispatched', route: 'tunnel' })).toBe('dispatched');
    expect(runStatusText({ status: 'running', route: 'jobs' })).toBe('running');
  });
});
