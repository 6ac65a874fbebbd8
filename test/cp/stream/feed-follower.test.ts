import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openStore, type Store } from '../../../src/cp/store/store.js';
import { createLocalBus } from '../../../src/cp/bus/local-bus.js';
import { createFeedFollower } from '../../../src/cp/stream/feed-follower.js';
import type { FeedMessageEntry } from '../../../src/cp/bus/cp-bus.js';

const log = pino({ level: 'silent' });
const dirs: string[] = [];
const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fresh(): Store {
  const dir = mkdtempSync(join(tmpdir(), 'okesu-follower-'));
  dirs.push(dir);
  const st = openStore(join(dir, 'cp.db'), { log });
  stores.push(st);
  return st;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const append = (st: Store, n: number): FeedMessageEntry[] =>
  Array.from({ length: n }, (_, i) => {
    const payload = { hostname: `h${i}` };
    return { cursor: st.feed.append(1000 + i, 'host', payload), kind: 'host' as const, payload };
  });

describe('feed follower', () => {
  it('on a single CP hands entries on as published, with no store reads', () => {
    const st = fresh();
    const bus = createLocalBus('local', log);
    const got: number[] = [];
    const follower = createFeedFollower({ bus, feed: st.feed, cluster: false, log, deliver: (es) => got.push(...es.map((e) => e.cursor)) });
    const entries = append(st, 3);
    bus.publish('feed', { entries: [entries[2] as FeedMessageEntry] });
    bus.publish('feed', { entries: entries.slice(0, 2) });
    expect(got).toEqual([3, 1, 2]);
    follower.stop();
  });

  it('on a cluster delivers in cursor order and fills a gap from the store', async () => {
    const st = fresh();
    const bus = createLocalBus('r1', log);
    const got: FeedMessageEntry[] = [];
    const follower = createFeedFollower({ bus, feed: st.feed, cluster: true, log, deliver: (es) => got.push(...es) });
    const entries = append(st, 5);
    // Another replica's publication of 1–2 never arrives (it died after its commit); 3 arrives, then 5 before 4.
    bus.publish('feed', { entries: [entries[2] as FeedMessageEntry] });
    await turn();
    expect(got.map((e) => e.cursor)).toEqual([1, 2, 3]);
    expect(got[0]?.payload).toEqual({ hostname: 'h0' });
    bus.publish('feed', { entries: [entries[4] as FeedMessageEntry] });
    bus.publish('feed', { entries: [entries[3] as FeedMessageEntry] });
    await turn();
    expect(got.map((e) => e.cursor)).toEqual([1, 2, 3, 4, 5]);
    // A late duplicate of something delivered is not handed on twice.
    bus.publish('feed', { entries: [entries[1] as FeedMessageEntry] });
    await turn();
    expect(got).toHaveLength(5);
    expect(follower.delivered()).toBe(5);
    follower.stop();
  });

  it('on a cluster catches up with committed entries nobody announced', async () => {
    const st = fresh();
    const bus = createLocalBus('r1', log);
    const got: number[] = [];
    const follower = createFeedFollower({ bus, feed: st.feed, cluster: true, log, deliver: (es) => got.push(...es.map((e) => e.cursor)) });
    append(st, 2);
    const deadline = Date.now() + 5000;
    while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(got).toEqual([1, 2]);
    follower.stop();
  });
});
