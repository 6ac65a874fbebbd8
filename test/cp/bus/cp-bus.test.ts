import { connect, headers, type MsgHdrs } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { CpBus, HostDelivery } from '../../../src/cp/bus/cp-bus.js';
import { createLocalBus } from '../../../src/cp/bus/local-bus.js';
import { createNatsBus, ORIGIN_HEADER } from '../../../src/cp/bus/nats-bus.js';
import { createBusSigner, SIGNATURE_HEADER } from '../../../src/cp/bus/bus-signature.js';
import { freePort } from '../../support/child-servers.js';
import { startNatsServer, testClusterName, testNatsUrl, type TestNatsServer } from '../../support/nats.js';
import { captureLog, collect, feed, waitUntil, type CapturedLog } from './bus-test-helpers.js';

/** The bus secret of the test clusters (a cluster's replicas share one). */
const SECRET = Buffer.alloc(32, 7);

const cancel: HostDelivery = { kind: 'cancel', hostname: 'web-1', run_id: 'r_01JD0000000000000000000000', reason: 'operator' };

const opened: CpBus[] = [];
const servers: TestNatsServer[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((b) => b.close()));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

/** One replica's bus of each kind; `cluster` is shared by the buses of one test. */
const kinds: Array<{ name: string; open(replicaId: string, cluster: string, log: CapturedLog): Promise<CpBus> }> = [
  { name: 'local', open: (replicaId, _cluster, { log }) => Promise.resolve(createLocalBus(replicaId, log)) },
  { name: 'nats', open: (replicaId, cluster, { log }) => createNatsBus({ url: testNatsUrl(), cluster, replicaId, log, secret: SECRET }) },
];

describe.each(kinds)('$name bus', (kind) => {
  async function open(replicaId = 'r1', log = captureLog()): Promise<CpBus> {
    const bus = await kind.open(replicaId, testClusterName('cpbus'), log);
    opened.push(bus);
    return bus;
  }

  it('delivers each message synchronously, once, in publish order, with this replica as the origin', async () => {
    const bus = await open('r1');
    const got = collect(bus, 'feed');
    for (let i = 1; i <= 50; i++) bus.publish('feed', feed(i));
    expect(got.items.map((m) => m.message.entries[0]?.cursor)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(new Set(got.items.map((m) => m.origin))).toEqual(new Set(['r1']));
    expect(bus.replicaId).toBe('r1');
    expect(bus.connected()).toBe(true);
  });

  it('keeps a throwing subscriber from the others, and logs it', async () => {
    const log = captureLog();
    const bus = await open('r1', log);
    bus.subscribe('tunnel.changed', () => {
      throw new Error('boom');
    });
    const got = collect(bus, 'tunnel.changed');
    bus.publish('tunnel.changed', { hostname: 'web-1', replica: 'r1', up: true });
    bus.publish('tunnel.changed', { hostname: 'web-1', replica: 'r1', up: false });
    expect(got.items.map((m) => m.message.up)).toEqual([true, false]);
    expect(log.withMsg('bus subscriber failed')).toHaveLength(2);
  });

  it('stops delivering to a subscriber once it unsubscribes, even in the middle of a message', async () => {
    const bus = await open();
    const seen: string[] = [];
    let unsubscribeB = (): void => {};
    bus.subscribe('feed', () => {
      seen.push('a');
      unsubscribeB();
    });
    unsubscribeB = bus.subscribe('feed', () => seen.push('b'));
    const unsubscribeC = bus.subscribe('feed', () => seen.push('c'));
    bus.publish('feed', feed(1));
    unsubscribeC();
    bus.publish('feed', feed(2));
    expect(seen).toEqual(['a', 'c', 'a']);
  });

  it('delivers a message published from a subscriber after the one being delivered, to every subscriber', async () => {
    const bus = await open();
    bus.subscribe('feed', (m) => {
      if (m.entries[0]?.cursor === 1) bus.publish('feed', feed(2));
    });
    const got = collect(bus, 'feed');
    bus.publish('feed', feed(1));
    expect(got.items.map((m) => m.message.entries[0]?.cursor)).toEqual([1, 2]);
  });

  it('serves a delivery to this replica with its handler, and answers false when the handler throws', async () => {
    const bus = await open('r1');
    const handled: HostDelivery[] = [];
    bus.onDelivery((d) => {
      handled.push(d);
      if (d.hostname === 'bad') return Promise.reject(new Error('no tunnel for bad'));
      return Promise.resolve({ delivered: true, replica: 'r1' });
    });
    expect(await bus.deliver('r1', cancel)).toEqual({ delivered: true, replica: 'r1' });
    expect(await bus.deliver('r1', { ...cancel, hostname: 'bad' })).toEqual({ delivered: false, error: 'no tunnel for bad' });
    expect(handled).toEqual([cancel, { ...cancel, hostname: 'bad' }]);
    expect(() => bus.onDelivery(() => Promise.resolve({ delivered: false, error: 'x' }))).toThrow(/already set/);
  });

  it('answers false at once for a replica that does not exist', async () => {
    const bus = await open('r1');
    const started = Date.now();
    const answer = await bus.deliver('ghost', cancel);
    expect(answer.delivered).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('NATS bus across replicas', () => {
  async function pair(cluster = testClusterName('cpbus'), url = testNatsUrl(), reconnectWaitMs?: number) {
    const logA = captureLog();
    const logB = captureLog();
    const a = await createNatsBus({ url, cluster, replicaId: 'a', log: logA.log, reconnectWaitMs, secret: SECRET });
    const b = await createNatsBus({ url, cluster, replicaId: 'b', log: logB.log, reconnectWaitMs, secret: SECRET });
    opened.push(a, b);
    return { a, b, logA, logB, cluster };
  }

  it('carries feed and tunnel.changed to the other replica in order, with the origin, without echoing them back', async () => {
    const { a, b } = await pair();
    const onA = collect(a, 'feed');
    const onB = collect(b, 'feed');
    const tunnelsOnB = collect(b, 'tunnel.changed');
    for (let i = 1; i <= 200; i++) a.publish('feed', feed(i));
    a.publish('tunnel.changed', { hostname: 'web-1', replica: 'a', up: true });
    await onB.until(200);
    await tunnelsOnB.until(1);
    expect(onB.items.map((m) => m.message.entries[0]?.cursor)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(onB.items[0]).toEqual({ message: feed(1), origin: 'a' });
    expect(tunnelsOnB.items).toEqual([{ message: { hostname: 'web-1', replica: 'a', up: true }, origin: 'a' }]);
    // b's answer reaches a after anything the server would have echoed to a: a saw its own messages once.
    const tunnelsOnA = collect(a, 'tunnel.changed');
    b.publish('tunnel.changed', { hostname: 'web-2', replica: 'b', up: true });
    await tunnelsOnA.until(1);
    expect(tunnelsOnA.items).toEqual([{ message: { hostname: 'web-2', replica: 'b', up: true }, origin: 'b' }]);
    expect(onA.items).toHaveLength(200);
  });

  it('keeps clusters apart on one server', async () => {
    const one = await pair();
    const other = await pair();
    const onOther = collect(other.b, 'feed');
    const onOne = collect(one.b, 'feed');
    one.a.publish('feed', feed(1));
    other.a.publish('feed', feed(2));
    await onOne.until(1);
    await onOther.until(1);
    expect(onOne.items.map((m) => m.message)).toEqual([feed(1)]);
    expect(onOther.items.map((m) => m.message)).toEqual([feed(2)]);
  });

  it('delivers to another replica and brings its answer back', async () => {
    const { a, b } = await pair();
    expect(await a.deliver('b', cancel)).toEqual({ delivered: false, error: 'replica b serves no deliveries yet' });
    const handled: HostDelivery[] = [];
    b.onDelivery((d) => {
      handled.push(d);
      return d.hostname === 'gone' ? Promise.reject(new Error('host gone is not connected here')) : Promise.resolve({ delivered: true, replica: 'b' });
    });
    expect(await a.deliver('b', cancel)).toEqual({ delivered: true, replica: 'b' });
    expect(await a.deliver('b', { ...cancel, hostname: 'gone' })).toEqual({ delivered: false, error: 'host gone is not connected here' });
    expect(handled).toEqual([cancel, { ...cancel, hostname: 'gone' }]);
  });

  it('answers false quickly, not after the timeout, for a replica nobody serves', async () => {
    const { a } = await pair();
    const started = Date.now();
    const answer = await a.deliver('ghost', cancel, 10_000);
    expect(answer).toEqual({ delivered: false, error: 'replica ghost is not on the bus' });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('answers false after the timeout when the replica does not answer in time', async () => {
    const { a, b } = await pair();
    b.onDelivery(() => new Promise(() => {}));
    const answer = await a.deliver('b', cancel, 300);
    expect(answer).toEqual({ delivered: false, error: 'replica b did not answer within 300 ms' });
  });

  it('drops malformed messages and delivery requests published raw on its subjects, and keeps going', async () => {
    const { a, b, logB, cluster } = await pair();
    b.onDelivery(() => Promise.resolve({ delivered: true, replica: 'b' }));
    const onB = collect(b, 'feed');
    const raw = await connect({ servers: testNatsUrl() });
    // What a peer with the cluster's key sends, and what someone without it sends.
    const signed = (subject: string, text: string, secret = SECRET): { data: Uint8Array; headers: MsgHdrs } => {
      const data = new TextEncoder().encode(text);
      const h = headers();
      h.set(ORIGIN_HEADER, 'x');
      h.set(SIGNATURE_HEADER, createBusSigner(secret).sign(subject, 'x', data));
      return { data, headers: h };
    };
    const send = (subject: string, m: { data: Uint8Array; headers: MsgHdrs }): void => raw.publish(subject, m.data, { headers: m.headers });
    try {
      const feedSubject = `okesu.${cluster}.feed`;
      send(feedSubject, signed(feedSubject, '{not json'));
      send(feedSubject, signed(feedSubject, JSON.stringify({ entries: [{ cursor: 'one', kind: 'run' }] })));
      const tunnelSubject = `okesu.${cluster}.tunnel.changed`;
      send(tunnelSubject, signed(tunnelSubject, JSON.stringify({ hostname: 'web-1' })));
      // Well formed, but forged: no signature, another key's, or a signature made for another subject.
      raw.publish(feedSubject, JSON.stringify(feed(7)));
      send(feedSubject, signed(feedSubject, JSON.stringify(feed(7)), Buffer.alloc(32, 9)));
      send(feedSubject, signed(tunnelSubject, JSON.stringify(feed(7))));
      const deliverSubject = `okesu.${cluster}.replica.b.deliver`;
      const malformed = signed(deliverSubject, JSON.stringify({ kind: 'dispatch', hostname: 'web-1' }));
      const reply = await raw.request(deliverSubject, malformed.data, { timeout: 2000, headers: malformed.headers });
      expect(reply.json()).toEqual({ delivered: false, error: 'malformed delivery request' });
      // A forged delivery request is not answered at all.
      await expect(raw.request(deliverSubject, JSON.stringify(cancel), { timeout: 500 })).rejects.toThrow();
      await raw.flush();
    } finally {
      await raw.close();
    }
    a.publish('feed', feed(8));
    await onB.until(1);
    expect(onB.items).toEqual([{ message: feed(8), origin: 'a' }]);
    expect(logB.withMsg('bus dropped a malformed message')).toHaveLength(3);
    expect(logB.withMsg("bus dropped a message that is not signed with this cluster's key")).toHaveLength(3);
    expect(logB.withMsg("bus dropped a delivery request that is not signed with this cluster's key")).toHaveLength(1);
    expect(logB.withMsg('bus dropped a malformed delivery request')).toHaveLength(1);
    expect(await a.deliver('b', cancel)).toEqual({ delivered: true, replica: 'b' });
  });

  it('refuses to talk to a replica with another cluster key', async () => {
    const cluster = testClusterName('cpbus');
    const a = await createNatsBus({ url: testNatsUrl(), cluster, replicaId: 'a', log: captureLog().log, secret: SECRET });
    const logB = captureLog();
    const b = await createNatsBus({ url: testNatsUrl(), cluster, replicaId: 'b', log: logB.log, secret: Buffer.alloc(32, 1) });
    try {
      b.onDelivery(() => Promise.resolve({ delivered: true, replica: 'b' }));
      const onB = collect(b, 'feed');
      a.publish('feed', feed(1));
      expect((await a.deliver('b', cancel, 500)).delivered).toBe(false);
      expect(onB.items).toEqual([]);
      expect(logB.withMsg("bus dropped a message that is not signed with this cluster's key")).toHaveLength(1);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('delivers a message too big for NATS locally, logs that the others missed it, and carries on', async () => {
    const { a, b, logA } = await pair();
    const onA = collect(a, 'feed');
    const onB = collect(b, 'feed');
    const big = { entries: [{ cursor: 1, kind: 'run' as const, payload: 'x'.repeat(2 * 1024 * 1024) }] };
    a.publish('feed', big);
    a.publish('feed', feed(2));
    await onB.until(1);
    expect(onA.items.map((m) => m.message.entries[0]?.cursor)).toEqual([1, 2]);
    expect(onB.items.map((m) => m.message)).toEqual([feed(2)]);
    expect(logA.withMsg('bus could not publish to the other replicas')).toHaveLength(1);
  });

  it('reconnects after the NATS server restarts on the same port, and messages flow again', async () => {
    const server = await startNatsServer();
    servers.push(server);
    const { a, b } = await pair(testClusterName('restart'), server.url, 50);
    b.onDelivery(() => Promise.resolve({ delivered: true, replica: 'b' }));
    await server.kill();
    await waitUntil(() => !a.connected() && !b.connected(), 'disconnected');
    await server.start();
    await waitUntil(() => a.connected() && b.connected(), 'reconnected');
    // Both resubscribe on reconnecting; probe until b's subscriptions are back on the server.
    const probes = collect(b, 'tunnel.changed');
    for (let n = 1; probes.items.length === 0; n++) {
      a.publish('tunnel.changed', { hostname: `probe-${n}`, replica: 'a', up: true });
      await probes.until(1, 200).catch(() => undefined);
      if (n > 50) throw new Error('no message crossed after the restart');
    }
    const onB = collect(b, 'feed');
    for (let i = 1; i <= 20; i++) a.publish('feed', feed(i));
    await onB.until(20);
    expect(onB.items.map((m) => m.message.entries[0]?.cursor)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(await a.deliver('b', cancel)).toEqual({ delivered: true, replica: 'b' });
  });

  it('fails to open with an error naming the URL when the server is unreachable', async () => {
    const url = `nats://127.0.0.1:${await freePort()}`;
    await expect(createNatsBus({ url, cluster: 'c', replicaId: 'a', log: captureLog().log, secret: SECRET })).rejects.toThrow(
      `cannot connect to the NATS server at ${url}`,
    );
  });

  it('refuses a cluster name or replica id that is not one subject token', async () => {
    const log = captureLog().log;
    await expect(createNatsBus({ url: testNatsUrl(), cluster: 'a.b', replicaId: 'a', log, secret: SECRET })).rejects.toThrow(/cluster name/);
    await expect(createNatsBus({ url: testNatsUrl(), cluster: 'c', replicaId: '*', log, secret: SECRET })).rejects.toThrow(/replica id/);
  });
});
