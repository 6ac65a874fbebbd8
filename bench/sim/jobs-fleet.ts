import { fork, type ChildProcess } from 'node:child_process';
import { closeChildren } from './close-children.js';
import { childScript } from '../lib/child-script.js';
import { resolve } from 'node:path';
import type { BucketLocation } from '../../src/transport/bucket/bucket.js';
import type { ClaimTiming, JobsHostCounters } from './jobs-host.js';
import type { FromJobsChild, ToJobsChild } from './jobs-messages.js';
import type { FleetTarget } from './messages.js';

const CHILD = resolve(import.meta.dirname, 'jobs-fleet-child.ts');

type Reply<T extends FromJobsChild['type']> = Extract<FromJobsChild, { type: T }>;

interface JobsChild {
  proc: ChildProcess;
  hostnames: string[];
  next<T extends FromJobsChild['type']>(type: T, timeoutMs?: number): Promise<Reply<T>>;
  send(msg: ToJobsChild): void;
  /** Sends `msg` and resolves with the reply of `type`. */
  ask<T extends FromJobsChild['type']>(msg: ToJobsChild, type: T, timeoutMs?: number): Promise<Reply<T>>;
}

async function startChild(hostnames: string[], env: Record<string, string>): Promise<JobsChild> {
  const { script, execArgv } = await childScript(CHILD);
  const proc = fork(script, [], { execArgv, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiters: { type: string; resolve: (m: FromJobsChild) => void; reject: (e: Error) => void }[] = [];
  const failAll = (err: Error): void => {
    for (const w of waiters.splice(0)) w.reject(err);
  };
  proc.on('message', (msg: FromJobsChild) => {
    if (msg.type === 'error') return failAll(new Error(`jobs simulator ${proc.pid}: ${msg.message}`));
    const i = waiters.findIndex((w) => w.type === msg.type);
    if (i >= 0) waiters.splice(i, 1)[0]?.resolve(msg);
  });
  proc.on('exit', (code, signal) => failAll(new Error(`jobs simulator ${proc.pid} exited (${code ?? signal})`)));
  const child: JobsChild = {
    proc, hostnames,
    next(type, timeoutMs = 120_000) {
      return new Promise((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`jobs simulator ${proc.pid}: no ${type} within ${timeoutMs} ms`)), timeoutMs);
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
    ask(msg, type, timeoutMs) {
      const reply = child.next(type, timeoutMs);
      child.send(msg);
      return reply;
    },
  };
  return child.next('ready', 60_000).then(() => child);
}

/** The fleet's counters and claims at one moment. */
export interface JobsFleetStats {
  /** Each host's counters (cumulative since it started). */
  hosts: Map<string, JobsHostCounters>;
  /** Claims made since the previous `stats()` call. */
  claims: ClaimTiming[];
  /** HTTP attempts of every child's S3 client, by operation (retries included). */
  requests: Record<string, number>;
}

/** A jobs-mode simulated fleet of `size` hosts over a few child processes. */
export interface JobsFleet {
  size: number;
  hostnames: string[];
  pids: number[];
  /** Registers every host through `/v1/register`; returns wall ms, or throws naming the first failure. */
  register(target: FleetTarget, joinToken: string, concurrencyPerChild?: number): Promise<number>;
  /** Registers the fleet's first `count` hosts (spread over the children) through the bucket; returns wall ms, or throws naming the first failure. */
  registerThroughBucket(location: BucketLocation, joinToken: string, count: number, pollMs: number): Promise<number>;
  /** Gives every host a local key (no CP); jobs are then verified with `caPublicKeyPem`. */
  localKeys(caPublicKeyPem: string): Promise<number>;
  /** Starts every host polling `location`. */
  start(location: BucketLocation, pollMs: number, heartbeatEvery: number): Promise<void>;
  stats(): Promise<JobsFleetStats>;
  /** The first `hosts` hosts (spread over the children) write `objects` events objects each (`open`: their tick's run_start only); returns the writers' totals. */
  stream(hosts: number, objects: number, recordsPerObject: number, open?: boolean): Promise<{ objects: number; records: number; firstPutAt: number; lastPutAt: number; errors: number }>;
  close(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Forks `children` simulator processes (hostnames `${prefix}-00000` …, spread round-robin) with `env` (the S3 credentials). */
export async function startJobsFleet(size: number, prefix: string, children: number, env: Record<string, string>): Promise<JobsFleet> {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const p of live) p.kill('SIGKILL');
    });
  }
  const hostnames = Array.from({ length: size }, (_, i) => `${prefix}-${String(i).padStart(5, '0')}`);
  const settled = await Promise.allSettled(Array.from({ length: children }, (_, c) => startChild(hostnames.filter((_, i) => i % children === c), env)));
  const kids = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  for (const k of kids) live.add(k.proc);
  const close = (): Promise<void> => closeChildren(kids, live);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) {
    await close();
    throw (failed as PromiseRejectedResult).reason;
  }
  return {
    size, hostnames, pids: kids.flatMap((k) => (k.proc.pid === undefined ? [] : [k.proc.pid])),
    async register(target, joinToken, concurrencyPerChild = 8) {
      const t0 = performance.now();
      const replies = await Promise.all(kids.map((k, i) =>
        k.ask({ type: 'register', target, joinToken, hostnames: k.hostnames, localAddress: `127.0.0.${2 + i}`, concurrency: concurrencyPerChild }, 'registered', 300_000)));
      const failures = replies.reduce((a, r) => a + r.failures, 0);
      if (failures > 0) throw new Error(`${failures} of ${size} registrations failed; first: ${replies.find((r) => r.firstError)?.firstError}`);
      return performance.now() - t0;
    },
    async registerThroughBucket(location, joinToken, count, pollMs) {
      const t0 = performance.now();
      const replies = await Promise.all(kids.map((k, i) =>
        k.ask({ type: 'register-bucket', location, joinToken, hostnames: k.hostnames, count: Math.max(0, Math.ceil((count - i) / kids.length)), pollMs }, 'registered', 300_000)));
      const failures = replies.reduce((a, r) => a + r.failures, 0);
      if (failures > 0) throw new Error(`${failures} of ${count} bucket registrations failed; first: ${replies.find((r) => r.firstError)?.firstError}`);
      return performance.now() - t0;
    },
    async localKeys(caPem) {
      const t0 = performance.now();
      await Promise.all(kids.map((k) => k.ask({ type: 'keys', hostnames: k.hostnames, caPem }, 'keyed')));
      return performance.now() - t0;
    },
    async start(location, pollMs, heartbeatEvery) {
      await Promise.all(kids.map((k) => k.ask({ type: 'start', location, pollMs, heartbeatEvery }, 'started')));
    },
    async stats() {
      const replies = await Promise.all(kids.map((k) => k.ask({ type: 'stats' }, 'stats')));
      const requests: Record<string, number> = {};
      for (const r of replies) for (const [op, n] of Object.entries(r.requests)) requests[op] = (requests[op] ?? 0) + n;
      return { hosts: new Map(replies.flatMap((r) => r.hosts.map((h) => [h.host, h.counters] as const))), claims: replies.flatMap((r) => r.claims), requests };
    },
    async stream(hosts, objects, recordsPerObject, open = false) {
      const replies = await Promise.all(kids.map((k, i) =>
        k.ask({ type: 'stream', hosts: Math.max(0, Math.ceil((hosts - i) / kids.length)), objects, recordsPerObject, open }, 'streamed', 300_000)));
      const starts = replies.map((r) => r.firstPutAt).filter((t) => t > 0);
      return {
        objects: replies.reduce((a, r) => a + r.objects, 0),
        records: replies.reduce((a, r) => a + r.records, 0),
        errors: replies.reduce((a, r) => a + r.errors, 0),
        firstPutAt: starts.length ? Math.min(...starts) : 0,
        lastPutAt: Math.max(...replies.map((r) => r.lastPutAt)),
      };
    },
    close,
  };
}
