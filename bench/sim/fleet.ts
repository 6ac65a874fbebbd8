import { fork, type ChildProcess } from 'node:child_process';
import { closeChildren } from './close-children.js';
import { childScript } from '../lib/child-script.js';
import { resolve } from 'node:path';
import type { HostIdentity } from '../lib/register-host.js';
import type { BackoffSettings, DurableStats, FleetTarget, FromChild, SimTimeline, ToChild } from './messages.js';

/** How many tunnels one simulator process holds at most (its open-file limit and event loop both stay comfortable). */
export const TUNNELS_PER_CHILD = 2500;

const CHILD = resolve(import.meta.dirname, 'fleet-child.ts');

type Reply<T extends FromChild['type']> = Extract<FromChild, { type: T }>;

interface FleetChild {
  proc: ChildProcess;
  hostnames: string[];
  /** Resolves with the next message of a type (or rejects on an `error` message or exit). */
  next<T extends FromChild['type']>(type: T, timeoutMs?: number): Promise<Reply<T>>;
  send(msg: ToChild): void;
}

async function startChild(hostnames: string[]): Promise<FleetChild> {
  const { script, execArgv } = await childScript(CHILD);
  const proc = fork(script, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiters: { type: string; resolve: (m: FromChild) => void; reject: (e: Error) => void }[] = [];
  const failAll = (err: Error): void => {
    for (const w of waiters.splice(0)) w.reject(err);
  };
  proc.on('message', (msg: FromChild) => {
    if (msg.type === 'error') return failAll(new Error(`simulator ${proc.pid}: ${msg.message}`));
    const i = waiters.findIndex((w) => w.type === msg.type);
    if (i >= 0) waiters.splice(i, 1)[0]?.resolve(msg);
  });
  proc.on('exit', (code, signal) => failAll(new Error(`simulator ${proc.pid} exited (${code ?? signal})`)));
  const child: FleetChild = {
    proc, hostnames,
    next(type, timeoutMs = 600_000) {
      return new Promise((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`simulator ${proc.pid}: no ${type} within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          type,
          resolve: (m) => { clearTimeout(timer); res(m as Reply<typeof type>); },
          reject: (e) => { clearTimeout(timer); rej(e); },
        });
      });
    },
    send(msg) {
      proc.send(msg);
    },
  };
  return child.next('ready', 60_000).then(() => child);
}

/** Fleet-wide heartbeat figures. */
export interface FleetStats {
  connected: number;
  closed: number;
  rttMs: number[];
  perChild: { n: number; p50: number; p99: number; max: number }[];
}

/** Fleet-wide dispatch timings, epoch ms. */
export interface FleetDispatchStats {
  ackAt: number[];
  endAckAt: number[];
  firstDispatchAt: number;
}

/** A simulated-daimon fleet of `size` hosts spread over child processes, each on its own loopback source address. */
export interface Fleet {
  size: number;
  children: number;
  hostnames: string[];
  /** Process ids of the simulator processes (to sample their CPU). */
  pids: number[];
  /** Registers every host through `/v1/register` (key + CSR made in the children, in parallel); returns wall ms. */
  register(target: FleetTarget, joinToken: string, concurrencyPerChild?: number): Promise<number>;
  /** Hands every child the identities of its hostnames, registered earlier against a CP with the same state (instead of `register`). */
  load(target: FleetTarget, identities: readonly HostIdentity[]): Promise<void>;
  /** Every registered identity, in `hostnames` order. */
  identities(): Promise<HostIdentity[]>;
  /** Connects tunnels until `total` are up, spread evenly over the children; returns wall ms and failures. */
  connect(total: number, concurrencyPerChild?: number): Promise<{ ms: number; failures: number; firstError?: string }>;
  /** Starts (clearing earlier samples) or stops recording heartbeat round trips. */
  record(on: boolean): void;
  stats(): Promise<FleetStats>;
  dispatchStats(): Promise<FleetDispatchStats>;
  /** Starts `total` durable sims (reconnect with backoff, keep events until acked: `durable-sim.ts`) spread evenly over the children; resolves when each had its first welcome, with wall ms. */
  startDurable(total: number, backoff: BackoffSettings, concurrencyPerChild?: number): Promise<number>;
  /** Turns every tunnel `connect` opened into a durable sim of its host without reconnecting (`shared-fleet.ts`); returns the durable sims now running. */
  adoptDurable(backoff: BackoffSettings): Promise<number>;
  /** Fleet-wide findings per second the durable sims emit, split over the children (0 stops). */
  emitDurable(perSecond: number): void;
  /** The durable sims' counters summed over the children (`lastUpAt` is the latest). */
  durableStats(): Promise<DurableStats>;
  /** Every durable sim's welcomes and drops. */
  durableTimeline(): Promise<SimTimeline[]>;
  /** Each simulator's event-loop delay (p99, max in ms) since the last reset; `reset` starts a new window. */
  loopDelay(reset: boolean): Promise<{ p99Ms: number; maxMs: number }[]>;
  /** Stops every child: a polite `close`, then SIGKILL. Safe to call twice. */
  close(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function killAllOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Even when the suite throws or the runner exits early, no simulator outlives it.
  process.on('exit', () => {
    for (const p of live) p.kill('SIGKILL');
  });
}

/** Forks ceil(size / TUNNELS_PER_CHILD) simulator processes; hostnames are `${prefix}-00000` …. */
export async function startFleet(size: number, prefix: string): Promise<Fleet> {
  killAllOnExit();
  // At least two simulators once there is real work: key generation and TLS handshakes want both cores.
  const count = Math.max(size >= 500 ? 2 : 1, Math.ceil(size / TUNNELS_PER_CHILD));
  const hostnames = Array.from({ length: size }, (_, i) => `${prefix}-${String(i).padStart(5, '0')}`);
  const starting = Array.from({ length: count }, (_, c) => {
    const mine = hostnames.filter((_, i) => i % count === c);
    const p = startChild(mine);
    return p;
  });
  const settled = await Promise.allSettled(starting);
  const children = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  for (const c of children) live.add(c.proc);
  const close = (): Promise<void> => closeChildren(children, live);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) {
    await close();
    throw (failed as PromiseRejectedResult).reason;
  }
  return {
    size, children: count, hostnames, pids: children.flatMap((c) => (c.proc.pid === undefined ? [] : [c.proc.pid])),
    async register(target, joinToken, concurrencyPerChild = 8) {
      const t0 = performance.now();
      await Promise.all(children.map((c, i) => {
        const done = c.next('registered');
        c.send({ type: 'register', target, joinToken, hostnames: c.hostnames, localAddress: `127.0.0.${2 + i}`, concurrency: concurrencyPerChild });
        return done;
      }));
      return performance.now() - t0;
    },
    async load(target, identities) {
      const byName = new Map(identities.map((id) => [id.hostname, id]));
      await Promise.all(children.map((c, i) => {
        const done = c.next('loaded');
        const mine = c.hostnames.map((h) => {
          const id = byName.get(h);
          if (!id) throw new Error(`no identity for ${h}`);
          return id;
        });
        c.send({ type: 'load', target, identities: mine, localAddress: `127.0.0.${2 + i}` });
        return done;
      }));
    },
    async identities() {
      const replies = await Promise.all(children.map((c) => {
        const done = c.next('identities');
        c.send({ type: 'identities' });
        return done;
      }));
      const byName = new Map(replies.flatMap((r) => r.identities).map((id) => [id.hostname, id]));
      return hostnames.flatMap((h) => byName.get(h) ?? []);
    },
    async connect(total, concurrencyPerChild = 50) {
      const t0 = performance.now();
      const replies = await Promise.all(children.map((c, i) => {
        const done = c.next('connected');
        // Spread evenly: child i gets hosts i, i+count, … so its first k hostnames are the fleet's first total.
        const upTo = Math.ceil((total - i) / count);
        c.send({ type: 'connect', upTo: Math.max(0, upTo), concurrency: concurrencyPerChild });
        return done;
      }));
      return {
        ms: performance.now() - t0,
        failures: replies.reduce((a, r) => a + r.failures, 0),
        firstError: replies.find((r) => r.firstError)?.firstError,
      };
    },
    record(on) {
      for (const c of children) c.send({ type: 'record', on });
    },
    async stats() {
      const replies = await Promise.all(children.map((c) => {
        const done = c.next('stats');
        c.send({ type: 'stats' });
        return done;
      }));
      return {
        connected: replies.reduce((a, r) => a + r.connected, 0),
        closed: replies.reduce((a, r) => a + r.closed, 0),
        rttMs: replies.flatMap((r) => r.rttMs),
        perChild: replies.map((r) => r.local),
      };
    },
    async dispatchStats() {
      const replies = await Promise.all(children.map((c) => {
        const done = c.next('dispatch-stats');
        c.send({ type: 'dispatch-stats' });
        return done;
      }));
      const firsts = replies.map((r) => r.firstDispatchAt).filter((t) => t > 0);
      return {
        ackAt: replies.flatMap((r) => r.ackAt),
        endAckAt: replies.flatMap((r) => r.endAckAt),
        firstDispatchAt: firsts.length ? Math.min(...firsts) : 0,
      };
    },
    async startDurable(total, backoff, concurrencyPerChild = 50) {
      const t0 = performance.now();
      await Promise.all(children.map((c, i) => {
        const done = c.next('durable-started');
        c.send({ type: 'durable-start', upTo: Math.max(0, Math.ceil((total - i) / count)), concurrency: concurrencyPerChild, backoff });
        return done;
      }));
      return performance.now() - t0;
    },
    async adoptDurable(backoff) {
      const replies = await Promise.all(children.map((c) => {
        const done = c.next('durable-started');
        c.send({ type: 'durable-adopt', backoff });
        return done;
      }));
      return replies.reduce((a, r) => a + r.count, 0);
    },
    emitDurable(perSecond) {
      for (const c of children) c.send({ type: 'durable-emit', perSecond: perSecond / count });
    },
    async durableStats() {
      const replies = await Promise.all(children.map((c) => {
        const done = c.next('durable-stats');
        c.send({ type: 'durable-stats' });
        return done;
      }));
      const sum = (k: Exclude<keyof DurableStats, 'lastUpAt' | 'lastDownAt'>): number => replies.reduce((a, r) => a + r[k], 0);
      return {
        sims: sum('sims'), online: sum('online'), emitted: sum('emitted'), pending: sum('pending'), resent: sum('resent'),
        welcomes: sum('welcomes'), failedAttempts: sum('failedAttempts'), resumed: sum('resumed'), lastUpAt: Math.max(...replies.map((r) => r.lastUpAt)),
        lastDownAt: Math.max(...replies.map((r) => r.lastDownAt)),
      };
    },
    async durableTimeline() {
      const replies = await Promise.all(children.map((c) => {
        const done = c.next('durable-timeline');
        c.send({ type: 'durable-timeline' });
        return done;
      }));
      return replies.flatMap((r) => r.sims);
    },
    async loopDelay(reset) {
      return Promise.all(children.map(async (c) => {
        const done = c.next('loop-delay');
        c.send({ type: 'loop-delay', reset });
        const r = await done;
        return { p99Ms: r.p99Ms, maxMs: r.maxMs };
      }));
    },
    close,
  };
}
