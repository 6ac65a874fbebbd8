import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { streamMessageSchema } from '../../src/protocol/api.js';
import { asTicks, findingRecord, runId, sendEvents, startCp, type CpHarness, type HostIdentity, type TestSocket } from './cp-harness.js';

let h: CpHarness;
let web01: HostIdentity;
beforeEach(async () => {
  h = await startCp();
  web01 = await h.registerHost('web-01');
});
afterEach(async () => {
  await h.close();
});

/** Opens a stream that must be accepted and waits for its `ready`. */
async function stream(query: Record<string, string | number> = {}): Promise<TestSocket> {
  const result = await h.openStream(query);
  if (!result.ok) throw new Error(`stream refused: ${JSON.stringify(result.refusal)}`);
  await result.socket.nextOfType('ready');
  return result.socket;
}

/** Ingests findings with these titles; returns their ids and feed cursors. */
async function ingest(...titles: string[]): Promise<{ id: number; cursor: number }[]> {
  const s = await stream({ kinds: 'finding' });
  const tunnel = await h.connectHost(web01);
  const run = runId();
  await sendEvents(tunnel, asTicks(titles.map((title, i) => findingRecord(run, i + 1, { title, resource: 'binary:/usr/bin/nc' }))));
  tunnel.terminate();
  await s.next(() => s.ofType('finding').length === titles.length);
  s.terminate();
  return s.ofType('finding').map((f) => ({ id: (f['finding'] as { id: number }).id, cursor: f['cursor'] as number }));
}

describe('triage on the live stream', () => {
  it('delivers a triage message live to kinds=triage and to a stream of every kind, not to kinds=finding', async () => {
    const [found] = await ingest('Shell');
    const onlyTriage = await stream({ kinds: 'triage' });
    const every = await stream();
    const findingsOnly = await stream({ kinds: 'finding' });

    const view = await h.admin.triageFinding(found?.id as number, { status: 'acknowledged', reason: 'looking' });
    const msg = await onlyTriage.nextOfType('triage');
    expect(streamMessageSchema.parse(msg)).toEqual({ type: 'triage', cursor: expect.any(Number), triage: view });
    expect((msg['cursor'] as number) > (found?.cursor as number)).toBe(true);
    expect((await every.nextOfType('triage'))['cursor']).toBe(msg['cursor']);

    // Messages are published in commit order: once the next finding is here, a triage message would have been too.
    await ingest('Next');
    await findingsOnly.nextOfType('finding');
    expect(findingsOnly.ofType('triage')).toEqual([]);
    expect(onlyTriage.ofType('finding')).toEqual([]);
  });

  it('replays triage messages after a cursor, and replayed findings show their current status', async () => {
    const [a, b] = await ingest('Beacon', 'Beacon');
    const group = await h.admin.triageFinding(a?.id as number, { status: 'resolved', scope: 'group' });
    expect(group.updated).toBe(2);

    const replay = await stream({ after: (a?.cursor as number) - 1 });
    const readyAt = replay.frames.findIndex((f) => f.type === 'ready');
    const backlog = replay.frames.slice(0, readyAt);
    for (const f of backlog) expect(streamMessageSchema.safeParse(f).success).toBe(true);
    const findings = backlog.filter((f) => f.type === 'finding').map((f) => f['finding'] as { id: number; status: string });
    expect(findings).toEqual([expect.objectContaining({ id: a?.id, status: 'resolved' }), expect.objectContaining({ id: b?.id, status: 'resolved' })]);
    const triage = backlog.filter((f) => f.type === 'triage');
    expect(triage).toEqual([{ type: 'triage', cursor: expect.any(Number), triage: group }]);
    expect(replay.frames[readyAt]?.['cursor']).toBeGreaterThanOrEqual(triage[0]?.['cursor'] as number);

    // kinds=triage replays the decision alone; a cursor past it replays nothing.
    const onlyTriage = await stream({ after: (a?.cursor as number) - 1, kinds: 'triage' });
    expect(onlyTriage.frames.map((f) => f.type)).toEqual(['triage', 'ready']);
    const past = await stream({ after: triage[0]?.['cursor'] as number, kinds: 'triage' });
    expect(past.frames.map((f) => f.type)).toEqual(['ready']);
  });
});
