import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { asTicks, findingRecord, runId } from '../cp-harness.js';
import { hostParty, MAX_OBJECT_BYTES } from '../../../src/protocol/bucket-objects.js';
import { createObjectSigner } from '../../../src/transport/bucket/signed-object.js';
import { hostWriter, keysUnder, quarantineNotes, startJobsCp, type JobsCp } from './jobs-helpers.js';

const strangerKey = (): string => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

describe('bucket scanner: hostile objects', () => {
  let env: JobsCp | undefined;
  afterEach(async () => {
    await env?.cp.close();
    env = undefined;
  });

  it('acts on none of them, quarantines each with its reason, and keeps scanning', async () => {
    env = await startJobsCp();
    const { bucket, layout } = env;
    const victim = await env.cp.registerHost('victim');
    const attacker = await env.cp.registerHost('attacker');
    const offline = await env.cp.registerHost('sleeper');
    const v = hostWriter(victim, layout);
    const a = hostWriter(attacker, layout);
    const run = runId();

    // Events for the victim, signed with the attacker's key (or any key but the victim's).
    const forgedKey = v.eventsKey();
    await bucket.put(forgedKey, v.events(forgedKey, asTicks([findingRecord(run, 1)]), createObjectSigner(hostParty('victim'), attacker.key)));
    // The attacker's own valid object copied under the victim's prefix.
    const copiedFrom = a.eventsKey();
    const copiedKey = v.eventsKey();
    await bucket.put(copiedKey, a.events(copiedFrom, asTicks([findingRecord(runId(), 1)])));
    // A valid object with one byte of a title changed.
    const tamperedKey = v.eventsKey();
    const good = v.events(tamperedKey, asTicks([findingRecord(runId(), 1, { title: 'Finding A' })]));
    const at = good.indexOf('Finding A');
    good[at + 8] = 'B'.charCodeAt(0);
    await bucket.put(tamperedKey, good);
    // Garbage, an oversized object, a key outside the layout.
    const garbageKey = v.eventsKey();
    await bucket.put(garbageKey, 'this is not a signed object\n');
    const bigKey = v.eventsKey();
    await bucket.put(bigKey, Buffer.alloc(MAX_OBJECT_BYTES + 1, 0x61));
    const strayKey = `${layout.outbox()}victim/notes.txt`;
    await bucket.put(strayKey, 'hello');
    // A heartbeat for an offline host, signed with a key that is not its own.
    const s = hostWriter(offline, layout);
    await bucket.put(layout.heartbeat('sleeper'), s.heartbeat({}, createObjectSigner(hostParty('sleeper'), strangerKey())));
    // A registration request that is not one.
    await bucket.put(layout.regRequest('newcomer', '0'.repeat(32)), 'garbage\n');

    await env.scan();

    const notes = await quarantineNotes(bucket, layout);
    const byKey = new Map(notes.map((n) => [n.key, n]));
    const rel = (k: string): string => layout.relative(k) as string;
    expect(byKey.get(rel(forgedKey))).toMatchObject({ code: 'unverified', reason: expect.stringMatching(/signature does not verify/) });
    expect(byKey.get(rel(copiedKey))).toMatchObject({ code: 'unverified', reason: expect.stringMatching(/names key .* \(moved or replayed\)/) });
    expect(byKey.get(rel(tamperedKey))).toMatchObject({ code: 'unverified', reason: expect.stringMatching(/signature does not verify/) });
    expect(byKey.get(rel(garbageKey))).toMatchObject({ code: 'unverified', reason: expect.stringMatching(/not a signed object|bad header/) });
    expect(byKey.get(rel(bigKey))).toMatchObject({ code: 'too_large', size: MAX_OBJECT_BYTES + 1 });
    expect(byKey.get(rel(strayKey))).toMatchObject({ code: 'bad_key' });
    expect(byKey.get('hb/sleeper')).toMatchObject({ code: 'unverified', reason: expect.stringMatching(/signature does not verify/) });
    expect(byKey.get(`reg/newcomer/${'0'.repeat(32)}.req`)).toMatchObject({ code: 'unverified' });
    expect(notes).toHaveLength(8);
    // The originals are gone, a copy of each sits in quarantine, nothing reached the store.
    expect(await keysUnder(bucket, layout.outbox())).toEqual([]);
    expect(await keysUnder(bucket, layout.heartbeats())).toEqual([]);
    expect((await env.cp.admin.findings({})).findings).toHaveLength(0);
    expect((await env.cp.admin.hosts()).find((h) => h.hostname === 'sleeper')?.state).toBe('offline');
    expect(env.cp.cp.bucketScanner()?.stats().quarantined).toEqual({ unverified: 6, too_large: 1, bad_key: 1, bad_body: 0 });

    // The scanner keeps going: a good object after all that is ingested.
    const okRun = runId();
    const okKey = v.eventsKey();
    await bucket.put(okKey, v.events(okKey, asTicks([findingRecord(okRun, 1)])));
    await env.scan();
    expect((await env.cp.admin.getRun(okRun)).events).toBe(2);
  });

  it('a signed events object whose records do not parse is quarantined as a bad body', async () => {
    env = await startJobsCp();
    const host = await env.cp.registerHost('web-01');
    const w = hostWriter(host, env.layout);
    const key = w.eventsKey();
    await env.bucket.put(key, w.obj('events', key, [{ run_id: 'nope', seq: -1 }]));
    await env.scan();
    const notes = await quarantineNotes(env.bucket, env.layout);
    expect(notes).toEqual([expect.objectContaining({ code: 'bad_body', reason: expect.stringMatching(/^bad events:/) })]);
  });

  it('events for a run of another host are refused by the ingest even when signed by the writer', async () => {
    env = await startJobsCp();
    const owner = await env.cp.registerHost('owner');
    const other = await env.cp.registerHost('other');
    const run = runId();
    const o = hostWriter(owner, env.layout);
    const k1 = o.eventsKey();
    await env.bucket.put(k1, o.events(k1, asTicks([findingRecord(run, 1)])));
    await env.scan();
    const x = hostWriter(other, env.layout);
    const k2 = x.eventsKey();
    await env.bucket.put(k2, x.events(k2, [findingRecord(run, 2)]));
    await env.scan();
    expect((await env.cp.admin.getRun(run)).events).toBe(2);
    expect(await keysUnder(env.bucket, env.layout.outbox())).toEqual([]);
  });

  it('a replayed older heartbeat is ignored, a newer one counts', async () => {
    let now = Date.now();
    env = await startJobsCp({ now: () => now });
    const host = await env.cp.registerHost('poller');
    const w = hostWriter(host, env.layout, () => now);
    const old = w.heartbeat({ seq: 1 });
    now += 1000;
    await env.bucket.put(env.layout.heartbeat('poller'), w.heartbeat({ seq: 2 }));
    await env.scan();
    const first = (await env.cp.admin.hosts()).find((h) => h.hostname === 'poller');
    expect(first).toMatchObject({ state: 'online', heartbeat_seq: 2, transport: 'jobs', poll_ms: 10_000, heartbeat_interval_ms: 10_000, path: 'jobs' });
    now += 1000;
    await env.bucket.put(env.layout.heartbeat('poller'), old);
    await env.scan();
    const replayed = (await env.cp.admin.hosts()).find((h) => h.hostname === 'poller');
    expect(replayed?.heartbeat_seq).toBe(2);
    expect(replayed?.last_heartbeat).toBe(first?.last_heartbeat);
    expect(await quarantineNotes(env.bucket, env.layout)).toEqual([]);
  });
});
