import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { orchestrationRunViewSchema } from '../../../src/protocol/orchestration-api.js';
import { streamMessageSchema } from '../../../src/protocol/api.js';
import { startCp, type CpHarness, type Frame } from '../cp-harness.js';
import { fakeDaimons, start, waitRun } from './orch-helpers.js';

let h: CpHarness;
beforeEach(async () => {
  h = await startCp();
});
afterEach(async () => {
  await h.close();
});

describe('live stream', () => {
  it('carries every run and step transition as an orchestration_run message, live and on resume', async () => {
    await fakeDaimons(h, ['web-01'], () => ({ result: { ok: 1 } }));
    const opened = await h.openStream({ kinds: 'orchestration_run' });
    if (!opened.ok) throw new Error('stream refused');
    const live = opened.socket;
    await live.nextOfType('ready');
    const run = await start(h, { spec: 'name: s\nsteps:\n  - { id: a, agent: edr, node: web-01 }\n  - { id: b, agent: edr, node: web-01 }\n' });
    await waitRun(h, run.id);
    const done = await live.next((f) => f.type === 'orchestration_run' && (f['run'] as { status: string }).status === 'completed');
    const messages = live.ofType('orchestration_run');
    for (const m of messages) expect(streamMessageSchema.safeParse(m).success).toBe(true);
    const seen = messages.map((m: Frame) => orchestrationRunViewSchema.parse(m['run']));
    expect(seen.every((v) => v.id === run.id)).toBe(true);
    expect(seen[0]?.status).toBe('pending');
    expect(seen.map((v) => v.steps.map((s) => s.status).join(','))).toEqual(expect.arrayContaining(['running,pending', 'completed,running', 'completed,completed']));
    const cursors = messages.map((m) => m['cursor'] as number);
    expect([...cursors].sort((a, b) => a - b)).toEqual(cursors);

    // a client resuming from the first cursor gets the same messages after it from the feed
    const resumed = await h.openStream({ kinds: 'orchestration_run', after: cursors[0] as number });
    if (!resumed.ok) throw new Error('stream refused');
    await resumed.socket.nextOfType('ready');
    expect(resumed.socket.ofType('orchestration_run').map((m) => m['cursor'])).toEqual(cursors.slice(1));
    expect(done['cursor']).toBe(cursors[cursors.length - 1]);
  });
});
