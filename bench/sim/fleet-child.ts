/**
 * One process of the simulated-daimon fleet: registers its hosts through the real `/v1/register` flow, holds up to a
 * few thousand real mTLS tunnels from its own loopback source address, heartbeats at the CP's interval, answers
 * dispatches like the trivial agent, and reports over IPC. Run with `fork(this file, { execArgv: ['--import', 'tsx'] })`.
 */
import type { ClientRequestArgs } from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket, { type RawData } from 'ws';
import { LIMITS } from '../../src/protocol/limits.js';
import { percentile } from '../lib/stats.js';
import { createDurableFleet, NO_DURABLE_STATS, type DurableFleet } from './durable-fleet.js';
import type { FleetTarget, FromChild, ToChild } from './messages.js';
import { registerHost, type HostIdentity } from '../lib/register-host.js';

interface Sim {
  id: HostIdentity;
  ws: WebSocket;
  seq: number;
  sentAt: Map<number, number>;
  timer?: NodeJS.Timeout;
  /** The welcome's heartbeat interval and reconnect window, and the last TLS session ticket: what a durable sim adopting the tunnel needs. */
  welcome?: { intervalMs: number; spreadMs: number };
  tls: { session?: Buffer };
}

const identities: HostIdentity[] = [];
const sims: Sim[] = [];
let target: FleetTarget | undefined;
let localAddress = '127.0.0.1';
let recording = false;
let closedCount = 0;
let rtt: number[] = [];
const ackAt: number[] = [];
const endAckAt: number[] = [];
let firstDispatchAt = 0;
const pendingEnds = new Set<string>();

function send(msg: FromChild): void {
  process.send?.(msg);
}

async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

async function register(msg: Extract<ToChild, { type: 'register' }>): Promise<void> {
  target = msg.target;
  localAddress = msg.localAddress;
  const agent = new https.Agent({ keepAlive: true, maxSockets: msg.concurrency, localAddress });
  const t0 = performance.now();
  await pool(msg.hostnames, msg.concurrency, async (hostname) => {
    identities.push(await registerHost(msg.target, hostname, msg.joinToken, agent));
  });
  agent.destroy();
  // In hostname order (not completion order): `connect(upTo)` then takes the child's first hostnames, as the parent expects.
  const order = new Map(msg.hostnames.map((h, i) => [h, i]));
  identities.sort((a, b) => (order.get(a.hostname) ?? 0) - (order.get(b.hostname) ?? 0));
  send({ type: 'registered', count: identities.length, ms: performance.now() - t0 });
}

function load(msg: Extract<ToChild, { type: 'load' }>): void {
  target = msg.target;
  localAddress = msg.localAddress;
  identities.push(...msg.identities);
  send({ type: 'loaded', count: identities.length });
}

function onFrame(sim: Sim, data: RawData, onWelcome: (intervalMs: number) => void): void {
  const frame = JSON.parse(data.toString()) as { type?: string; [k: string]: unknown };
  switch (frame.type ?? '') {
    case 'welcome':
      sim.welcome = { intervalMs: Number(frame['heartbeat_interval_ms']) || 5000, spreadMs: Number(frame['reconnect_spread_ms']) || 0 };
      onWelcome(sim.welcome.intervalMs);
      return;
    case 'heartbeat_ack': {
      const seq = Number(frame['seq']);
      const at = sim.sentAt.get(seq);
      if (at === undefined) return;
      sim.sentAt.delete(seq);
      if (recording) rtt.push(performance.now() - at);
      return;
    }
    case 'dispatch': {
      const now = Date.now();
      if (firstDispatchAt === 0) firstDispatchAt = now;
      const env = frame['envelope'] as { run_id: string; agent: string };
      sim.ws.send(JSON.stringify({ type: 'dispatch_ack', run_id: env.run_id, accepted: true }));
      ackAt.push(Date.now());
      // The trivial agent: starts and completes at once; both events in one frame, as the daimon's spooler batches them.
      const ts = Date.now();
      pendingEnds.add(env.run_id);
      sim.ws.send(JSON.stringify({
        type: 'events',
        records: [
          { run_id: env.run_id, seq: 0, event: { type: 'run_start', ts, agent: env.agent } },
          { run_id: env.run_id, seq: 1, event: { type: 'run_end', ts, agent: env.agent, status: 'completed', duration_ms: 0, findings: 0 } },
        ],
      }));
      return;
    }
    case 'ack': {
      const now = Date.now();
      for (const r of frame['records'] as { run_id: string; seq: number }[]) {
        if (r.seq === 1 && pendingEnds.delete(r.run_id)) endAckAt.push(now);
      }
      return;
    }
    default:
      return;
  }
}

function connectOne(id: HostIdentity, t: FleetTarget): Promise<Sim> {
  return new Promise((resolve, reject) => {
    const kept: Sim['tls'] = {};
    const ws = new WebSocket(`wss://${t.host}:${t.port}/v1/tunnel`, {
      ca: id.ca, key: id.key, cert: id.cert, localAddress,
      // ws's own TLS connect (no SNI for an IP), keeping the session tickets the CP sends for a durable sim that may
      // adopt this tunnel later (`adoptDurable`); ws types the hook as net's.
      createConnection: ((o: ClientRequestArgs) => {
        const s = tls.connect({ ...(o as tls.ConnectionOptions), path: undefined, servername: '' });
        s.on('session', (ticket: Buffer) => (kept.session = ticket));
        return s;
      }) as unknown as WebSocket.ClientOptions['createConnection'],
      headers: { authorization: `Bearer ${id.credential}` },
      perMessageDeflate: false, maxPayload: LIMITS.tunnelFrameBytes + 64 * 1024, handshakeTimeout: 60_000,
    });
    const sim: Sim = { id, ws, seq: 0, sentAt: new Map(), tls: kept };
    const timeout = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no welcome for ${id.hostname}`));
    }, 60_000);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`tunnel of ${id.hostname} refused: HTTP ${res.statusCode}`)));
    ws.on('error', (err) => {
      clearTimeout(timeout);
      reject(err);
    });
    ws.on('close', () => {
      if (sim.timer) clearTimeout(sim.timer);
      closedCount++;
    });
    ws.on('message', (data: RawData) =>
      onFrame(sim, data, (intervalMs) => {
        clearTimeout(timeout);
        ws.send(JSON.stringify({ type: 'hello', protocol: 1, version: 'bench', os: 'linux', arch: 'x64', labels: {}, running: [], spool_depth: 0 }));
        const beat = (): void => {
          if (ws.readyState !== WebSocket.OPEN) return;
          const seq = sim.seq++;
          sim.sentAt.set(seq, performance.now());
          ws.send(JSON.stringify({ type: 'heartbeat', seq, ts: Date.now(), running: 0, spool_depth: 0 }));
        };
        // Jitter the first beat across one interval so the fleet does not beat in step.
        sim.timer = setTimeout(() => {
          beat();
          sim.timer = setInterval(beat, intervalMs);
        }, Math.random() * intervalMs);
        resolve(sim);
      }),
    );
  });
}

async function connect(upTo: number, concurrency: number): Promise<void> {
  if (!target) throw new Error('connect before register');
  const t = target;
  const todo = identities.slice(sims.length, Math.min(upTo, identities.length));
  let failures = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  await pool(todo, concurrency, async (id) => {
    try {
      sims.push(await connectOne(id, t));
    } catch (err) {
      failures++;
      firstError ??= (err as Error).message;
    }
  });
  send({ type: 'connected', count: sims.length, ms: performance.now() - t0, failures, firstError });
}

let durable: DurableFleet | undefined;
// How late this process's event loop runs: when it is late, the simulator (not the CP) sets the pace.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

async function startDurable(msg: Extract<ToChild, { type: 'durable-start' }>): Promise<void> {
  if (!target) throw new Error('durable-start before register');
  durable ??= createDurableFleet(target, localAddress, msg.backoff);
  const t0 = performance.now();
  await durable.start(identities.slice(durable.stats().sims, Math.min(msg.upTo, identities.length)), msg.concurrency);
  send({ type: 'durable-started', count: durable.stats().sims, ms: performance.now() - t0 });
}

/** Hands every open tunnel to a durable sim of its host (heartbeats, events kept until acked, reconnects), without reconnecting. */
function adoptDurable(msg: Extract<ToChild, { type: 'durable-adopt' }>): void {
  if (!target) throw new Error('durable-adopt before register');
  durable ??= createDurableFleet(target, localAddress, msg.backoff);
  const t0 = performance.now();
  const open = sims.splice(0).filter((s) => s.ws.readyState === WebSocket.OPEN && s.welcome);
  for (const s of open) {
    clearTimeout(s.timer);
    s.ws.removeAllListeners();
  }
  durable.adopt(open.map((s) => ({ id: s.id, ws: s.ws, welcome: s.welcome as NonNullable<Sim['welcome']>, session: s.tls.session })));
  send({ type: 'durable-started', count: durable.stats().sims, ms: performance.now() - t0 });
}

function closeAll(): void {
  durable?.stop();
  for (const s of sims) {
    if (s.timer) clearTimeout(s.timer);
    s.ws.terminate();
  }
}

process.on('message', (msg: ToChild) => {
  const fail = (err: unknown): void => send({ type: 'error', message: (err as Error).stack ?? String(err) });
  try {
    switch (msg.type) {
      case 'register':
        register(msg).catch(fail);
        return;
      case 'load':
        load(msg);
        return;
      case 'identities':
        send({ type: 'identities', identities });
        return;
      case 'connect':
        connect(msg.upTo, msg.concurrency).catch(fail);
        return;
      case 'record':
        recording = msg.on;
        if (msg.on) rtt = [];
        return;
      case 'stats':
        send({
          type: 'stats', connected: sims.filter((s) => s.ws.readyState === WebSocket.OPEN).length, closed: closedCount, rttMs: rtt,
          local: { n: rtt.length, p50: percentile(rtt, 50), p99: percentile(rtt, 99), max: rtt.length ? rtt.reduce((a, b) => Math.max(a, b)) : Number.NaN },
        });
        return;
      case 'dispatch-stats':
        send({ type: 'dispatch-stats', ackAt, endAckAt, firstDispatchAt });
        return;
      case 'durable-start':
        startDurable(msg).catch(fail);
        return;
      case 'durable-adopt':
        adoptDurable(msg);
        return;
      case 'durable-emit':
        durable?.emitRate(msg.perSecond);
        return;
      case 'durable-stats':
        send({ type: 'durable-stats', ...(durable?.stats() ?? NO_DURABLE_STATS) });
        return;
      case 'durable-timeline':
        send({ type: 'durable-timeline', sims: durable?.timeline() ?? [] });
        return;
      case 'loop-delay':
        send({ type: 'loop-delay', p99Ms: loopDelay.percentile(99) / 1e6, maxMs: loopDelay.max / 1e6 });
        if (msg.reset) loopDelay.reset();
        return;
      case 'close':
        closeAll();
        process.exit(0);
    }
  } catch (err) {
    fail(err);
  }
});
// The parent went away: do not linger holding sockets.
process.on('disconnect', () => {
  closeAll();
  process.exit(0);
});
send({ type: 'ready' });
