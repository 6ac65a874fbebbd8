import { afterEach, describe, expect, it } from 'vitest';
import { cpFrameSchema } from '../../../src/protocol/tunnel.js';
import { rolloutViewSchema, type RolloutView } from '../../../src/protocol/rollout.js';
import { errorCode, errorMessage, hello, waitFor, type CpHarness, type HostIdentity, type TestSocket } from '../cp-harness.js';
import { getRollout, hostStates, postRollout, reportSteps, signedReleases, startCpWithReleases } from './rollout-support.js';
import { generateReleaseKey } from '../../../src/release/release-signing.js';
import { signedArtifact, uploadRelease } from '../release-helpers.js';

const releases = signedReleases(['0.2.0', '0.3.0']);
let h: CpHarness;
afterEach(async () => {
  await h.close();
});

/** Registers hosts and connects each with a tunnel that said hello on version 0.1.0. */
async function fleet(names: readonly string[]): Promise<{ ids: Record<string, HostIdentity>; tunnels: Record<string, TestSocket> }> {
  const ids: Record<string, HostIdentity> = {};
  const tunnels: Record<string, TestSocket> = {};
  for (const name of names) {
    ids[name] = await h.registerHost(name);
    tunnels[name] = await h.connectHost(ids[name], { hello: false });
    tunnels[name].send(hello({ version: '0.1.0' }));
  }
  await waitFor(async () => (await h.admin.hosts()).filter((x) => x.connected && x.version === '0.1.0').length === names.length);
  return { ids, tunnels };
}

const created = (body: unknown): RolloutView => rolloutViewSchema.parse(body);

describe('rollouts: ordering', () => {
  it('orders the canary alone, then the next batch once it is healthy, and completes', async () => {
    h = await startCpWithReleases(releases);
    const { ids, tunnels } = await fleet(['a-1', 'a-2', 'a-3']);
    const stream = await h.openStream({ kinds: 'rollout' });
    if (!stream.ok) throw new Error('stream refused');
    await stream.socket.nextOfType('ready');

    const answer = await postRollout(h, { version: '0.2.0', all: true, canary: 1, batch: 2 });
    expect(answer.status).toBe(201);
    const ro = created(answer.body);
    expect(ro.hosts?.map((x) => [x.hostname, x.batch])).toEqual([['a-1', 0], ['a-2', 1], ['a-3', 1]]);

    const order = await tunnels['a-1']!.nextOfType('upgrade');
    expect(cpFrameSchema.parse(order)).toMatchObject({ type: 'upgrade', rollout_id: ro.rollout_id, allow_downgrade: false, health_timeout_ms: 60_000 });
    expect(order['release']).toEqual(releases.get('0.2.0')?.signed);
    expect(tunnels['a-2']!.ofType('upgrade')).toHaveLength(0);
    expect((await getRollout(h, ro.rollout_id)).hosts?.find((x) => x.hostname === 'a-1')?.from_version).toBe('0.1.0');

    // The canary upgrades: steps, then it comes back on the new version and says hello.
    reportSteps(tunnels['a-1']!, order, '0.2.0');
    await waitFor(async () => (await hostStates(h, ro.rollout_id))['a-1'] === 'restarting');
    expect(tunnels['a-2']!.ofType('upgrade')).toHaveLength(0);
    tunnels['a-1']!.terminate();
    const back = await h.connectHost(ids['a-1']!, { hello: false });
    back.send(hello({ version: '0.2.0' }));
    await waitFor(async () => (await hostStates(h, ro.rollout_id))['a-1'] === 'healthy');

    // The next batch goes out together; one host reports healthy directly, the other rolls back.
    const o2 = await tunnels['a-2']!.nextOfType('upgrade');
    const o3 = await tunnels['a-3']!.nextOfType('upgrade');
    reportSteps(tunnels['a-2']!, o2, '0.2.0', ['downloading', 'restarting', 'healthy']);
    reportSteps(tunnels['a-3']!, o3, '0.2.0', ['downloading', 'restarting']);
    tunnels['a-3']!.send({ type: 'upgrade_status', rollout_id: ro.rollout_id, version: '0.2.0', state: 'rolled_back', reason: 'no heartbeat in 60 s' });
    const done = await waitFor(async () => {
      const v = await getRollout(h, ro.rollout_id);
      return v.state === 'completed' ? v : undefined;
    });
    expect(done.counts).toMatchObject({ healthy: 2, rolled_back: 1, pending: 0 });
    expect(done.hosts?.find((x) => x.hostname === 'a-3')).toMatchObject({ state: 'rolled_back', reason: 'no heartbeat in 60 s' });
    expect(done.ended_at).not.toBeNull();

    // Every change went to the stream; `okesu hosts` shows each host's latest rollout state.
    const last = await stream.socket.next((f) => f.type === 'rollout' && (f['rollout'] as RolloutView).state === 'completed');
    expect((last['rollout'] as RolloutView).counts).toEqual(done.counts);
    const moves = stream.socket.ofType('rollout').filter((f) => f['host']).map((f) => `${(f['host'] as { hostname: string }).hostname}:${(f['host'] as { state: string }).state}`);
    expect(moves).toContain('a-1:healthy');
    expect(moves).toContain('a-3:rolled_back');
    const hosts = await h.admin.hosts();
    expect(hosts.find((x) => x.hostname === 'a-1')?.rollout).toEqual({ rollout_id: ro.rollout_id, version: '0.2.0', state: 'healthy' });
    expect(hosts.find((x) => x.hostname === 'a-3')?.rollout?.state).toBe('rolled_back');
    const audit = await h.admin.audit(10);
    expect(audit.find((e) => e.action === 'rollout.create')).toMatchObject({ target: ro.rollout_id, actor: 'admin' });
  });

  it('ignores repeats, backward moves, other versions and unknown rollouts', async () => {
    h = await startCpWithReleases(releases);
    const { tunnels } = await fleet(['b-1']);
    const ro = created((await postRollout(h, { version: '0.2.0', hosts: ['b-1'] })).body);
    const order = await tunnels['b-1']!.nextOfType('upgrade');
    reportSteps(tunnels['b-1']!, order, '0.2.0', ['staged', 'downloading', 'staged']);
    tunnels['b-1']!.send({ type: 'upgrade_status', rollout_id: ro.rollout_id, version: '0.3.0', state: 'failed', reason: 'x' });
    tunnels['b-1']!.send({ type: 'upgrade_status', rollout_id: 'ro_0000000000000000', version: '0.2.0', state: 'failed' });
    reportSteps(tunnels['b-1']!, order, '0.2.0', ['healthy', 'failed']);
    const v = await waitFor(async () => {
      const view = await getRollout(h, ro.rollout_id);
      return view.state === 'completed' ? view : undefined;
    });
    expect(v.hosts?.[0]).toMatchObject({ state: 'healthy', reason: null });
    expect(tunnels['b-1']!.isOpen()).toBe(true);
  });
});

describe('rollouts: failures', () => {
  it('fails an offline host at once and halts on it with --halt-on-error, leaving the rest pending', async () => {
    h = await startCpWithReleases(releases);
    await h.registerHost('c-0'); // registered, never connected
    const { tunnels } = await fleet(['c-1', 'c-2']);
    const ro = created((await postRollout(h, { version: '0.2.0', all: true, canary: 1, batch: 5, halt_on_error: true })).body);
    expect(ro.state).toBe('halted');
    expect(ro.halted_reason).toBe('c-0 failed: offline');
    expect(ro.hosts?.map((x) => x.state)).toEqual(['failed', 'pending', 'pending']);
    expect(tunnels['c-1']!.ofType('upgrade')).toHaveLength(0);
    expect((await h.admin.audit(10)).map((e) => e.action)).toContain('rollout.halt');
  });

  it('goes on past failures without --halt-on-error, and fails a host that reports nothing', async () => {
    h = await startCpWithReleases(releases, { rolloutTiming: { downloadMarginMs: 0, sweepMs: 50 } });
    await h.registerHost('d-0');
    const { tunnels } = await fleet(['d-1']);
    const ro = created((await postRollout(h, { version: '0.2.0', all: true, batch: 1, health_timeout_ms: 300 })).body);
    expect(ro.hosts?.find((x) => x.hostname === 'd-0')).toMatchObject({ state: 'failed', reason: 'offline' });
    await tunnels['d-1']!.nextOfType('upgrade');
    const v = await waitFor(async () => {
      const view = await getRollout(h, ro.rollout_id);
      return view.state === 'completed' ? view : undefined;
    });
    expect(v.hosts?.find((x) => x.hostname === 'd-1')).toMatchObject({ state: 'failed', reason: 'no report' });
  });

  it('refuses a version with no stored release, unknown hosts, an empty selector, and non-admins', async () => {
    h = await startCpWithReleases(releases);
    await fleet(['e-1']);
    const missing = await postRollout(h, { version: '9.9.9', all: true });
    expect([missing.status, errorCode(missing.body)]).toEqual([404, 'OKS_ERR_NOT_FOUND']);
    const unknown = await postRollout(h, { version: '0.2.0', hosts: ['nope'] });
    expect([unknown.status, errorCode(unknown.body)]).toEqual([400, 'OKS_ERR_BAD_REQUEST']);
    const none = await postRollout(h, { version: '0.2.0', selector: 'label:role=none' });
    expect([none.status, errorCode(none.body)]).toEqual([400, 'OKS_ERR_BAD_REQUEST']);
    const both = await postRollout(h, { version: '0.2.0', all: true, hosts: ['e-1'] });
    expect(both.status).toBe(400);
    const operator = await h.mintOperator('operator');
    const refused = await postRollout(h, { version: '0.2.0', all: true }, operator.token);
    expect(refused.status).toBe(403);
    expect((await h.request('GET', '/v1/rollouts')).body).toEqual({ rollouts: [] });
  });
});

describe('rollouts: counts on the stream', () => {
  it('keeps the counts right when one transaction fails many hosts (a fleet offline)', async () => {
    h = await startCpWithReleases(releases);
    for (const name of ['o-1', 'o-2', 'o-3', 'o-4']) await h.registerHost(name);
    const stream = await h.openStream({ kinds: 'rollout' });
    if (!stream.ok) throw new Error('stream refused');
    await stream.socket.nextOfType('ready');
    const ro = created((await postRollout(h, { version: '0.2.0', all: true, batch: 3 })).body);
    expect(ro.state).toBe('completed');
    const last = await stream.socket.next((f) => f.type === 'rollout' && (f['rollout'] as RolloutView).state === 'completed');
    expect((last['rollout'] as RolloutView).counts).toMatchObject({ failed: 4, pending: 0 });
    const failedCounts = stream.socket.ofType('rollout').filter((f) => f['host']).map((f) => (f['rollout'] as RolloutView).counts.failed);
    expect(failedCounts).toEqual([1, 2, 3, 4]);
  });
});

describe('rollouts: releases', () => {
  it('a release a running rollout targets is not pruned when newer ones are added', async () => {
    const later = generateReleaseKey();
    // The CP trusts both keys: 0.2.0 is uploaded at start, the later ones while the rollout runs.
    const first = signedReleases(['0.2.0']);
    h = await startCpWithReleases(first, { keepReleases: 1, releaseKeys: [...first.releaseKeys, later.publicKey] });
    const { tunnels } = await fleet(['r-1']);
    const ro = created((await postRollout(h, { version: '0.2.0', all: true })).body);
    await tunnels['r-1']!.nextOfType('upgrade');
    for (const v of ['0.3.0', '0.4.0']) {
      const a = signedArtifact(later, v, 1024);
      expect((await uploadRelease(h, a.bytes, { signed: a.signed })).status).toBe(201);
    }
    const versions = async (): Promise<string[]> => ((await h.request('GET', '/v1/releases')).body as { releases: { version: string }[] }).releases.map((r) => r.version);
    expect(await versions()).toEqual(['0.4.0', '0.2.0']);
    // A CP restart prunes at start: the running rollout's release is kept then too.
    await h.restart();
    expect(await versions()).toEqual(['0.4.0', '0.2.0']);
    expect((await h.request('POST', `/v1/rollouts/${ro.rollout_id}/cancel`)).status).toBe(200);
  });
});

describe('rollouts: cancel and restart', () => {
  it('cancel stops new orders; the hosts already ordered still finish', async () => {
    h = await startCpWithReleases(releases);
    const { tunnels } = await fleet(['f-1', 'f-2']);
    const ro = created((await postRollout(h, { version: '0.2.0', all: true, batch: 1 })).body);
    const order = await tunnels['f-1']!.nextOfType('upgrade');
    const operator = await h.mintOperator('operator');
    const cancelled = await h.request('POST', `/v1/rollouts/${ro.rollout_id}/cancel`, { token: operator.token });
    expect(cancelled.status).toBe(200);
    expect(created(cancelled.body).state).toBe('cancelled');
    // f-1 was ordered before the cancel and is still upgrading: busy until it ends (a second order would be refused).
    const inFlight = await postRollout(h, { version: '0.3.0', hosts: ['f-1'] });
    expect([inFlight.status, errorCode(inFlight.body)]).toEqual([409, 'OKS_ERR_STATE']);
    reportSteps(tunnels['f-1']!, order, '0.2.0', ['healthy']);
    await waitFor(async () => (await hostStates(h, ro.rollout_id))['f-1'] === 'healthy');
    expect(tunnels['f-2']!.ofType('upgrade')).toHaveLength(0);
    expect((await hostStates(h, ro.rollout_id))['f-2']).toBe('pending');
    // f-2 is pending in a cancelled rollout, so free; once ordered in a running one it is busy there.
    const next = await postRollout(h, { version: '0.3.0', all: true, batch: 1 });
    expect(next.status).toBe(201);
    const busy = await postRollout(h, { version: '0.3.0', hosts: ['f-2'] });
    expect([busy.status, errorCode(busy.body)]).toEqual([409, 'OKS_ERR_STATE']);
    expect(errorMessage(busy.body)).toMatch(/f-2 in ro_[0-9a-f]{16}/);
    const again = await h.request('POST', `/v1/rollouts/${ro.rollout_id}/cancel`);
    expect(errorCode(again.body)).toBe('OKS_ERR_STATE');
  });

  it('a restarted CP resumes a running rollout: the in-flight host finishes and the next batch is ordered', async () => {
    h = await startCpWithReleases(releases);
    const { ids, tunnels } = await fleet(['g-1', 'g-2']);
    const ro = created((await postRollout(h, { version: '0.2.0', all: true, canary: 1 })).body);
    const order = await tunnels['g-1']!.nextOfType('upgrade');
    reportSteps(tunnels['g-1']!, order, '0.2.0');
    await waitFor(async () => (await hostStates(h, ro.rollout_id))['g-1'] === 'restarting');

    await h.restart();
    // Each host's latest rollout state is read back from the store.
    const before = await h.admin.hosts();
    expect(before.find((x) => x.hostname === 'g-1')?.rollout).toEqual({ rollout_id: ro.rollout_id, version: '0.2.0', state: 'restarting' });
    expect(before.find((x) => x.hostname === 'g-2')?.rollout?.state).toBe('pending');
    // g-2 reconnects on its old version; g-1 comes back on the new one.
    const g2 = await h.connectHost(ids['g-2']!, { hello: false });
    g2.send(hello({ version: '0.1.0' }));
    await waitFor(async () => (await h.admin.hosts()).find((x) => x.hostname === 'g-2')?.connected);
    const g1 = await h.connectHost(ids['g-1']!, { hello: false });
    g1.send(hello({ version: '0.2.0' }));
    const next = await g2.nextOfType('upgrade');
    expect(next['rollout_id']).toBe(ro.rollout_id);
    reportSteps(g2, next, '0.2.0', ['healthy']);
    await waitFor(async () => (await getRollout(h, ro.rollout_id)).state === 'completed');
  });
});
