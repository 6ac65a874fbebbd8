import { afterEach, describe, expect, test } from 'vitest';
import type { ConsoleEvent } from '../../../../tui/store/events.js';
import { emptySummary } from '../../../../tui/store/initial-state.js';
import { finding, run, snapshot } from '../../store/fixtures.js';
import { hostAt, mixedFleet } from '../../support/fleet-data.js';
import { FRAME_NOW, renderConsole, type RenderedConsole } from '../../support/frame.js';

const hosts = [
  ...mixedFleet(),
  hostAt('web-03', 3_000, { labels: { role: 'web', env: 'prod', zone: 'eu-1' }, running: 2, spool_depth: 14, version: '0.2.0', os: 'linux', arch: 'arm64' }),
];
const runs = [
  run('run-a', FRAME_NOW - 60_000, { host: 'web-03', agent: 'proc-audit', status: 'completed', findings: 2 }),
  run('run-b', FRAME_NOW - 5_000, { host: 'web-03', agent: 'cert-check', status: 'running' }),
  run('run-c', FRAME_NOW - 7_200_000, { host: 'web-03', agent: 'disk-usage', status: 'failed', error: 'timeout' }),
  run('run-x', FRAME_NOW - 1_000, { host: 'web-01', agent: 'other' }),
];
const findings = [
  finding(1, { host: 'web-03', severity: 'CRITICAL', title: 'reverse shell from nginx', ts: FRAME_NOW - 30_000 }),
  finding(2, { host: 'web-01', severity: 'LOW', title: 'not this host', ts: FRAME_NOW - 20_000 }),
  finding(3, { host: 'web-03', severity: 'MEDIUM', title: 'cert expires in 9 days', status: 'acknowledged', ts: FRAME_NOW - 10_000 }),
];
const summary = { ...emptySummary(), open_by_host: { 'web-03': 1 } };
const events = [snapshot({ hosts, runs, findings, summary }), { type: 'connection', state: 'open', detail: null, at: FRAME_NOW } as const];

let c: RenderedConsole | undefined;
afterEach(() => c?.unmount());

async function openHost(role?: 'viewer'): Promise<RenderedConsole> {
  const r = await renderConsole({ width: 100, height: 30, events, ...(role && { role }) });
  await r.press('/', 'w', 'e', 'b', '-', '0', '3', 'enter', 'enter');
  return r;
}

describe('host view', () => {
  test('shows facts, labels, its recent runs newest first and its findings from the feed', async () => {
    c = await openHost();
    const frame = c.frame();
    expect(frame).toContain('fleet › host web-03');
    expect(frame).toMatch(/state\s+● online, connected/);
    expect(frame).toMatch(/os \/ arch\s+linux \/ arm64/);
    expect(frame).toMatch(/registered\s+2026-01-12 12:00:00 \(3d ago\)/);
    expect(frame).toMatch(/heartbeat\s+3s ago \(seq 7\)/);
    expect(frame).toMatch(/spool\s+14 queued/);
    expect(frame).toMatch(/labels\s+role=web env=prod zone=eu-1/);
    const runLines = frame.split('\n').filter((l) => /run-[abcx]/.test(l));
    expect(runLines.map((l) => /run-[abcx]/.exec(l)![0])).toEqual(['run-b', 'run-a', 'run-c']);
    expect(frame).toMatch(/✗ failed\s+disk-usage/);
    expect(frame).toMatch(/◆ CRIT\s+reverse shell from nginx\s+○ open\s+30s/);
    expect(frame).toMatch(/■ MED\s+cert expires in 9 days\s+◐ ack/);
    expect(frame).not.toContain('not this host');
    await expect(frame).toMatchFileSnapshot('../../../../snapshots/host-detail.txt');
  });

  test('f opens its findings (filtered host:NAME), d opens dispatch for it', async () => {
    c = await openHost();
    await c.press('f');
    expect(c.store.getState().ui.stack.at(-1)).toEqual({ view: 'findings', filter: 'host:web-03' });
    await c.press('esc', 'd');
    expect(c.store.getState().ui.stack.at(-1)).toEqual({ view: 'dispatch', key: 'web-03' });
  });

  test('a viewer pressing d is told why', async () => {
    c = await openHost('viewer');
    await c.press('d');
    expect(c.frame()).toContain('d: dispatch to this host — needs the operator role; you are viewer');
    expect(c.store.getState().ui.stack.at(-1)).toEqual({ view: 'host', key: 'web-03' });
  });

  test('a host the CP no longer knows says so', async () => {
    c = await renderConsole({ width: 100, height: 20, events });
    await c.dispatch({ type: 'ui/push', frame: { view: 'host', key: 'gone-01' } });
    expect(c.frame()).toContain('host gone-01 is not known to the CP');
  });

  test('hostile titles and labels are drawn without their escapes', async () => {
    const evil: ConsoleEvent[] = [
      ...events,
      { type: 'stream', messages: [{ type: 'finding', cursor: 9, finding: finding(9, { host: 'web-03', title: 'x\u001B]52;c;ZXZpbA==\u0007y\u001B[1;1H', ts: FRAME_NOW }) }] },
    ];
    c = await renderConsole({ width: 100, height: 30, events: evil });
    await c.dispatch({ type: 'ui/push', frame: { view: 'host', key: 'web-03' } });
    expect(c.frame()).toContain('x\\x1b]52;c;ZXZpbA==\\x07y');
    expect(c.frame()).not.toContain('\u001B');
  });
});
