import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_OBJECT_BYTES, hostParty, type ObjectKind } from '../../src/protocol/bucket-objects.js';
import type { StoredFinding } from '../../src/protocol/finding.js';
import { newId } from '../../src/protocol/ids.js';
import { createObjectSigner, encodeObject, type ObjectSigner } from '../../src/transport/bucket/signed-object.js';
import type { TestBucket } from '../support/s3.js';
import { okesuJson, runOkesu, stop, tempDir, waitFor, type CpProcess, type OkesuProcess } from './harness.js';
import {
  dispatch, expectWholeTranscript, findingsOf, hostView, jobsBucket, joinToken, layoutOf, listAll, runEvents, spawnJobsDaimon, startJobsCp, waitHost, waitRunEnd,
} from './jobs-harness.js';

// Someone with the bucket's credentials (and nothing else) writes into it: the test, with the bucket's own keys.
let tb: TestBucket;
let cp: CpProcess;
let cpDir: string;
let hostState: string;
let daimon: OkesuProcess;
let mark: string;
const HOST = 'jx-1';
const OFF = 'jx-off';
const procs: OkesuProcess[] = [];
const track = (p: OkesuProcess): OkesuProcess => (procs.push(p), p);

const attackerPem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const rel = (key: string): string => layoutOf(tb).relative(key) as string;
const nonce = (): string => randomBytes(8).toString('hex');

/** A signed object as its writer would encode it, for `key`, valid for ten minutes. */
function signed(kind: ObjectKind, key: string, to: string, lines: unknown[], signer: ObjectSigner): Buffer {
  const now = Date.now();
  return encodeObject({ kind, key: rel(key), to, issued_at: now, expires_at: now + 600_000 }, lines, signer);
}
const envelope = (runId: string, prompt = ''): Record<string, unknown> =>
  ({ run_id: runId, agent: 'jobs-emit', prompt, inputs: { count: 1, mark, tag: 'hostile' }, dispatch: 'jobs' });
const markedRuns = (): string[] => readFileSync(mark, 'utf8').trim().split('\n').filter(Boolean).map((l) => l.split(' ')[0] as string);

/** Two more heartbeats from `host` after now: its poller has gone round at least once more. */
async function twoMorePolls(host: string): Promise<void> {
  const seq = (await hostView(cp, host))?.heartbeat_seq ?? 0;
  await waitHost(cp, host, 'polling', (h) => (h.heartbeat_seq ?? 0) >= seq + 2);
}

/** The quarantine's reason notes, by the original key relative to the prefix. */
async function quarantined(): Promise<Map<string, { reason: string; key: string; size?: number }>> {
  const out = new Map<string, { reason: string; key: string; size?: number }>();
  for (const e of await listAll(tb.bucket, `${layoutOf(tb).root}quarantine/`)) {
    if (!e.key.endsWith('.reason')) continue;
    const got = await tb.bucket.get(e.key, 64 * 1024);
    if (!got || got.tooLarge) continue;
    const note = JSON.parse(got.body.toString('utf8')) as { reason: string; key: string; size?: number };
    out.set(rel(note.key) ?? note.key, note);
  }
  return out;
}

beforeAll(async () => {
  tb = await jobsBucket('e2e-jobs-hostile');
  cpDir = tempDir('jobs-hostile-cp');
  cp = await startJobsCp(cpDir, tb);
  mark = join(tempDir('jobs-hostile-mark'), 'started');
  // OFF registers and stops at once, so it is offline by the time its heartbeat is forged.
  const off = spawnJobsDaimon(tb, tempDir('jobs-hostile-off'), OFF, { token: await joinToken(cp) });
  await waitHost(cp, OFF, 'online', (h) => h.state === 'online');
  await stop(off);
  hostState = tempDir('jobs-hostile-d');
  daimon = track(spawnJobsDaimon(tb, hostState, HOST, { token: await joinToken(cp) }));
  await waitHost(cp, HOST, 'online', (h) => h.state === 'online');
}, 60_000);
afterAll(async () => {
  await Promise.all(procs.splice(0).map((p) => stop(p, 'SIGKILL')));
  await stop(cp?.proc, 'SIGKILL');
  tb?.bucket.close();
});

describe('a hostile bucket', () => {
  it('the daimon acts on no job the CP did not sign for it now: forged, tampered, misaddressed, replayed or garbage', async () => {
    const L = layoutOf(tb);
    const ca = createObjectSigner('cp', readFileSync(join(cpDir, 'ca.key'), 'utf8'));
    const notCa = createObjectSigner('cp', attackerPem);

    // A real run, long enough to copy its job object before the CP cleans the inbox up.
    const legit = await dispatch(cp, 'jobs-emit', HOST, { dispatch: 'jobs', inputs: { count: 3, every_ms: 400, mark } });
    const jobBytes = await waitFor('the job object', async () => {
      const got = await tb.bucket.get(L.job(HOST, legit.run_id), MAX_OBJECT_BYTES);
      return got && !got.tooLarge ? got.body : undefined;
    }, 10_000, 20);
    expect((await waitRunEnd(cp, legit.run_id)).run.status).toBe('completed');
    await waitFor('the CP cleaned the inbox', async () => (await listAll(tb.bucket, L.inbox(HOST))).length === 0, 15_000);

    const forged = newId('r');
    const tampered = newId('r');
    const misaddressed = newId('r');
    const garbage = newId('r');
    await tb.bucket.put(L.job(HOST, forged), signed('job', L.job(HOST, forged), hostParty(HOST), [envelope(forged)], notCa));
    const good = signed('job', L.job(HOST, tampered), hostParty(HOST), [envelope(tampered, 'look at /etc/shadow')], ca);
    const at = good.indexOf('/etc/shadow');
    expect(at).toBeGreaterThan(0);
    good[at + 1] = 'E'.charCodeAt(0); // one byte of the prompt: /Etc/shadow
    await tb.bucket.put(L.job(HOST, tampered), good);
    await tb.bucket.put(L.job(HOST, misaddressed), signed('job', L.job(HOST, misaddressed), hostParty(OFF), [envelope(misaddressed)], ca));
    await tb.bucket.put(L.job(HOST, garbage), randomBytes(2048));
    await tb.bucket.put(L.job(HOST, legit.run_id), jobBytes); // replayed after its claim was cleaned up

    // A real run after them: the poller is still going, and it has listed them by the time this one ends.
    const later = await dispatch(cp, 'jobs-emit', HOST, { dispatch: 'jobs', inputs: { count: 1, mark } });
    expect((await waitRunEnd(cp, later.run_id)).run.status).toBe('completed');
    await twoMorePolls(HOST);

    expect(markedRuns()).toEqual([legit.run_id, later.run_id]);
    const inbox = (await listAll(tb.bucket, L.inbox(HOST))).map((e) => rel(e.key));
    expect(inbox.filter((k) => k.endsWith('.claim'))).toEqual([]);
    expect((await runEvents(cp, legit.run_id)).filter((e) => e.type === 'run_start')).toHaveLength(1);
    for (const id of [forged, tampered, misaddressed, garbage]) {
      expect((await runOkesu(['runs', 'show', id], cp.env)).code, `${id} is unknown to the CP`).not.toBe(0);
    }
    // It read each one and said why it refused it (its log, JSON at warn); the replay it skipped by run id, unread.
    const refusals = new Map(daimon.stdoutLines.filter((l) => l.includes('bucket object refused')).map((l) => {
      const entry = JSON.parse(l) as { object: string; reason: string };
      return [rel(entry.object), entry.reason] as const;
    }));
    expect(refusals.get(rel(L.job(HOST, forged)))).toMatch(/signature does not verify with the key of cp/);
    expect(refusals.get(rel(L.job(HOST, tampered)))).toMatch(/signature does not verify with the key of cp/);
    expect(refusals.get(rel(L.job(HOST, misaddressed)))).toMatch(/addressed to host:jx-off/);
    expect(refusals.get(rel(L.job(HOST, garbage)))).toMatch(/not a signed object/);
    expect(daimon.child.exitCode).toBeNull();

    // Restarted, the daimon reads the inbox afresh: the replay is still refused (the seen-set is on disk), the rest again.
    await stop(daimon);
    daimon = track(spawnJobsDaimon(tb, hostState, HOST));
    await waitFor('the restarted daimon refused them again', () => daimon.stdoutLines.filter((l) => l.includes('bucket object refused')).length >= 4, 30_000);
    await twoMorePolls(HOST);
    expect(markedRuns()).toEqual([legit.run_id, later.run_id]);
    expect((await listAll(tb.bucket, L.inbox(HOST))).filter((e) => e.key.endsWith('.claim'))).toEqual([]);
  }, 120_000);

  it('the CP quarantines forged events, a forged heartbeat, garbage, a stray key and an oversized object, and keeps scanning', async () => {
    const L = layoutOf(tb);
    await waitHost(cp, OFF, 'offline', (h) => h.state === 'offline', 30_000);
    const hostKey = createObjectSigner(hostParty(HOST), readFileSync(join(hostState, 'key.pem'), 'utf8'));
    const asHostNotItsKey = createObjectSigner(hostParty(HOST), attackerPem);
    const asOffNotItsKey = createObjectSigner(hostParty(OFF), attackerPem);
    const now = Date.now();
    const record = (title: string) => ({
      run_id: newId('r'), seq: 1, event: { type: 'finding', ts: now, agent: 'jobs-emit', severity: 'critical', title, dedup_key: title },
    });

    const hostile = {
      // HOST's real key, writing into OFF's outbox.
      otherHost: [L.events(OFF, now, nonce()), (k: string) => signed('events', k, 'cp', [record('FORGED for another host')], hostKey)],
      // HOST's name, someone else's key.
      impersonated: [L.events(HOST, now, nonce()), (k: string) => signed('events', k, 'cp', [record('FORGED impersonation')], asHostNotItsKey)],
      heartbeat: [L.heartbeat(OFF), (k: string) => signed('heartbeat', k, 'cp', [{ seq: 999_999, mode: 'jobs', poll_ms: 500, interval_ms: 500, version: 'x', running: [], spool_depth: 0 }], asOffNotItsKey)],
      garbage: [L.events(HOST, now + 1, nonce()), () => randomBytes(4096)],
      strayKey: [`${L.hostOutbox(HOST)}notes.txt`, () => Buffer.from('not an object of the layout\n')],
      oversized: [L.events(HOST, now + 2, nonce()), () => Buffer.alloc(MAX_OBJECT_BYTES + 1, 0x61)],
    } as const;
    for (const [key, body] of Object.values(hostile)) await tb.bucket.put(key, body(key));

    const notes = await waitFor('all six quarantined', async () => {
      const q = await quarantined();
      return Object.values(hostile).every(([key]) => q.has(rel(key))) ? q : undefined;
    }, 30_000, 250);
    const reasonOf = (name: keyof typeof hostile): string => notes.get(rel(hostile[name][0]))?.reason ?? '';
    expect(reasonOf('otherHost')).toMatch(/host:jx-1 may not write/);
    expect(reasonOf('impersonated')).toMatch(/signature does not verify with the key of host:jx-1/);
    expect(reasonOf('heartbeat')).toMatch(/signature does not verify with the key of host:jx-off/);
    expect(reasonOf('garbage')).toMatch(/not a signed object/);
    expect(reasonOf('strayKey')).toMatch(/not a key of the layout/);
    expect(reasonOf('oversized')).toMatch(/over the \d+-byte limit/);
    expect(notes.get(rel(hostile.oversized[0]))?.size).toBe(MAX_OBJECT_BYTES + 1);
    // Moved, not copied: the originals are gone from where the CP scans.
    for (const [key] of Object.values(hostile)) expect(await tb.bucket.get(key, 16)).toBeUndefined();

    // Nothing acted on: the offline host stays offline, no forged finding is stored; and the scanner still ingests.
    const run = await dispatch(cp, 'jobs-emit', HOST, { dispatch: 'jobs', inputs: { count: 2 } });
    const end = await waitRunEnd(cp, run.run_id);
    expect(end.run.status).toBe('completed');
    expectWholeTranscript(end.events, 2);
    expect((await hostView(cp, OFF))?.state).toBe('offline');
    const titles = (await okesuJson<StoredFinding[]>(['findings', '--limit', '100000'], cp.env)).map((f) => f.title);
    expect(titles.filter((t) => t.startsWith('FORGED'))).toEqual([]);
    expect(cp.proc.child.exitCode).toBeNull();
  }, 120_000);

  it('a replayed events object of the host itself stores nothing twice', async () => {
    const L = layoutOf(tb);
    const run = await dispatch(cp, 'jobs-emit', HOST, { dispatch: 'jobs', inputs: { count: 6, every_ms: 250 } });
    // Copied the moment the daimon writes it, before the CP consumes it.
    const copied = await waitFor('an events object of the run', async () => {
      for (const e of await listAll(tb.bucket, L.hostOutbox(HOST))) {
        const got = await tb.bucket.get(e.key, MAX_OBJECT_BYTES);
        if (got && !got.tooLarge && got.body.includes(run.run_id) && got.body.includes('"type":"finding"')) return { key: e.key, body: got.body };
      }
      return undefined;
    }, 15_000, 20);
    const end = await waitRunEnd(cp, run.run_id);
    expect(end.run.status).toBe('completed');
    await waitFor('the CP consumed it', async () => (await tb.bucket.get(copied.key, 16)) === undefined, 10_000);

    await tb.bucket.put(copied.key, copied.body);
    await waitFor('the CP consumed the replay', async () => (await tb.bucket.get(copied.key, 16)) === undefined, 15_000);
    // Valid, so not quarantined; ingested again, and (run, seq) already stored: nothing new.
    expect((await quarantined()).has(rel(copied.key))).toBe(false);
    expectWholeTranscript(await runEvents(cp, run.run_id), 6);
    expect(await findingsOf(cp, run.run_id)).toHaveLength(6);
  }, 120_000);
});
