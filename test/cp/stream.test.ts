import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { streamMessageSchema } from '../../src/protocol/api.js';
import {
  findingRecord, runId, sendEvents, startCp, waitFor, tickStart, type CpHarness, type HostIdentity, type TestSocket,
} from './cp-harness.js';

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

/** Titles and cursors of the findings a stream delivered, in order. */
const delivered = (s: TestSocket): { title: string; cursor: number }[] =>
  s.ofType('finding').map((f) => ({ title: (f['finding'] as { title: string }).title, cursor: f['cursor'] as number }));

/** Waits until a stream has delivered `n` findings. */
const waitForFindings = (s: TestSocket, n: number) => waitFor(() => s.ofType('finding').length >= n, 5000, `${n} findings on the stream`);

/** Ingests findings with these titles (and severities) through a tunnel. */
async function ingest(tunnel: TestSocket, items: { title: string; severity?: string }[]): Promise<void> {
  const run = runId();
  // the tick's start first, on its own: its run message then precedes the findings on the feed
  await sendEvents(tunnel, [tickStart(run)]);
  await sendEvents(tunnel, items.map((item, i) => findingRecord(run, i + 1, { title: item.title, severity: item.severity ?? 'HIGH' })));
}

const titles = (...names: string[]) => names.map((title) => ({ title }));

describe('live stream', () => {
  it('delivers ingested findings with increasing cursors, every message valid', async () => {
    const s = await stream({ kinds: 'finding' });
    const tunnel = await h.connectHost(web01);
    await ingest(tunnel, titles('a', 'b', 'c'));
    await waitForFindings(s, 3);
    const got = delivered(s);
    expect(got.map((g) => g.title)).toEqual(['a', 'b', 'c']);
    const cursors = got.map((g) => g.cursor);
    expect([...cursors].sort((x, y) => x - y)).toEqual(cursors);
    expect(new Set(cursors).size).toBe(3);
    for (const f of s.frames) expect(streamMessageSchema.safeParse(f).success).toBe(true);
    expect(s.frames[0]?.type).toBe('ready');
  });

  it('delivers host changes to a stream without a kinds filter', async () => {
    const s = await stream();
    await h.connectHost(web01);
    const host = await s.next((f) => f.type === 'host' && (f['host'] as { connected: boolean }).connected);
    expect(host['host']).toMatchObject({ hostname: 'web-01', state: 'online' });
  });

  it('resumes after a disconnect with exactly the missed findings, none twice', async () => {
    const tunnel = await h.connectHost(web01);
    const first = await stream({ kinds: 'finding' });
    await ingest(tunnel, titles('a', 'b'));
    await waitForFindings(first, 2);
    const last = delivered(first).at(-1)?.cursor as number;
    first.terminate();
    await first.waitClosed();

    await ingest(tunnel, titles('c', 'd'));
    await ingest(tunnel, titles('e'));
    const resumed = await stream({ kinds: 'finding', after: last });
    // the backlog comes before `ready`
    const readyAt = resumed.frames.findIndex((f) => f.type === 'ready');
    expect(resumed.frames.slice(0, readyAt).map((f) => (f['finding'] as { title: string }).title)).toEqual(['c', 'd', 'e']);
    expect(resumed.frames[readyAt]?.['cursor']).toBe(delivered(resumed).at(-1)?.cursor);

    await ingest(tunnel, titles('f'));
    await waitForFindings(resumed, 4);
    const got = delivered(resumed);
    expect(got.map((g) => g.title)).toEqual(['c', 'd', 'e', 'f']);
    expect(got.every((g) => g.cursor > last)).toBe(true);
    expect(new Set(got.map((g) => g.cursor)).size).toBe(got.length);
  });

  it('with severity=high delivers only HIGH and CRITICAL findings', async () => {
    const s = await stream({ severity: 'high' });
    const tunnel = await h.connectHost(web01);
    await ingest(tunnel, [
      { title: 'info', severity: 'INFO' }, { title: 'low', severity: 'low' }, { title: 'medium', severity: 'MEDIUM' },
      { title: 'high', severity: 'HIGH' }, { title: 'critical', severity: 'CRITICAL' }, { title: 'medium again', severity: 'MEDIUM' },
      { title: 'last high', severity: 'high' },
    ]);
    // cursors are ordered, so once the last matching one is here every earlier one would be too
    await s.next((f) => f.type === 'finding' && (f['finding'] as { title: string }).title === 'last high');
    expect(delivered(s).map((g) => g.title)).toEqual(['high', 'critical', 'last high']);
    // the filter applies to findings only: host messages still flow, and a host is announced before its findings
    // (its change is written in the same commit as the findings, ahead of them)
    expect(s.ofType('host').length).toBeGreaterThan(0);
    expect(s.ofType('host')[0]?.['cursor'] as number).toBeLessThan(s.ofType('finding')[0]?.['cursor'] as number);
  });

  it('hands over from GET /v1/findings: streaming after its cursor delivers only newer findings', async () => {
    const tunnel = await h.connectHost(web01);
    await ingest(tunnel, titles('old-1', 'old-2'));
    const page = await h.admin.findings();
    expect(page.findings.map((f) => f.title)).toEqual(['old-1', 'old-2']);

    await ingest(tunnel, titles('new-1'));
    const s = await stream({ kinds: 'finding', after: page.cursor });
    await ingest(tunnel, titles('new-2'));
    await waitForFindings(s, 2);
    expect(delivered(s).map((g) => g.title)).toEqual(['new-1', 'new-2']);
  });

  it('keeps findings and resume cursors across a CP restart', async () => {
    let tunnel = await h.connectHost(web01);
    const s = await stream({ kinds: 'finding' });
    await ingest(tunnel, titles('before-1', 'before-2'));
    await waitForFindings(s, 2);
    const last = delivered(s).at(-1)?.cursor as number;

    await h.restart();
    await s.waitClosed();
    expect((await h.admin.findings()).findings.map((f) => f.title)).toEqual(['before-1', 'before-2']);

    // the host identity survives too: the daimon reconnects to the new port
    tunnel = await h.connectHost(web01);
    await ingest(tunnel, titles('after-1'));
    const resumed = await stream({ kinds: 'finding', after: last });
    await ingest(tunnel, titles('after-2'));
    await waitForFindings(resumed, 2);
    const got = delivered(resumed);
    expect(got.map((g) => g.title)).toEqual(['after-1', 'after-2']);
    // cursors are never reused after a restart
    expect(got.every((g) => g.cursor > last)).toBe(true);
  });
});

describe('live stream order', () => {
  it('delivers the messages of one group commit in cursor order across hosts and kinds', async () => {
    const web02 = await h.registerHost('web-02');
    const [t1, t2] = await Promise.all([h.connectHost(web01), h.connectHost(web02)]);
    const s = await stream();
    // Both hosts' events land in the same ingest commit (sent in one turn): the commit appends every finding first
    // and the runs' status changes after them, but settles host by host.
    for (let round = 0; round < 5; round++) {
      const [r1, r2] = [runId(), runId()];
      const started = (run: string) => ({ run_id: run, seq: 1, event: { ts: Date.now(), agent: 'edr', type: 'run_start', trigger: 'tick' } });
      await Promise.all([
        sendEvents(t1, [started(r1), findingRecord(r1, 2, { title: `a${round}` })]),
        sendEvents(t2, [started(r2), findingRecord(r2, 2, { title: `b${round}` })]),
      ]);
    }
    await waitForFindings(s, 10);
    await waitFor(() => s.ofType('run').length >= 10, 5000, '10 run messages');
    const cursors = s.frames.filter((f) => typeof f['cursor'] === 'number' && f.type !== 'ready').map((f) => f['cursor'] as number);
    expect(cursors).toEqual([...cursors].sort((x, y) => x - y));
  });
});
