import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replicasResponseSchema, type ReplicasResponse } from '../../src/protocol/replicas.js';
import type { ClientConfig } from '../../src/protocol/client-config.js';
import { createOperatorClient, type OperatorClient } from '../../src/transport/operator-client.js';
import { freePort } from '../../test/support/child-servers.js';
import { startHaproxy, type TestHaproxy } from '../../test/support/haproxy.js';
import { startNatsServer, type TestNatsServer } from '../../test/support/nats-server.js';
import { startPostgresServer, type StartedPostgresServer } from '../../test/support/postgres-server.js';
import { OKESU, readAdminConfig, spawnCp, type Child } from './cp-process.js';
import { readProc } from './proc-sampler.js';
import { waitUntil } from './stats.js';

const run = promisify(execFile);

/** One `okesu cp serve` replica of the benchmark cluster. */
export interface BenchReplica {
  id: string;
  port: number;
  stateDir: string;
  /** The running process (replaced by `start()` after a kill). */
  proc: Child;
  /** Sends `signal` and waits until the process exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** PostgreSQL + NATS + N replicas on loopback, HAProxy (TCP mode) in front; everything a child process of the bench. */
export interface ClusterBench {
  /** The balancer's port: every daimon and operator call goes through it. */
  port: number;
  config: ClientConfig;
  admin: OperatorClient;
  replicas: BenchReplica[];
  balancer: TestHaproxy;
  postgres: StartedPostgresServer;
  nats: TestNatsServer;
  /** `GET /v1/replicas` through the balancer. */
  view(): Promise<ReplicasResponse>;
  /** Stops every replica, HAProxy, NATS and PostgreSQL, and removes their files. */
  close(): Promise<void>;
}

/** What to start. */
export interface ClusterBenchOptions {
  replicas: number;
  /** More `cp serve` flags for every replica (e.g. `--heartbeat-interval`). */
  cpArgs?: string[];
  /** HAProxy's connection limit: above the tunnels the fleet will hold. */
  maxconn: number;
}

/** Starts the cluster and resolves once every replica is listed alive through the balancer and one leads. */
export async function startClusterBench(opts: ClusterBenchOptions): Promise<ClusterBench> {
  const dir = mkdtempSync(join(tmpdir(), 'okesu-bench-cluster-'));
  const keyFile = join(dir, 'cluster.key');
  const started: { stop(): Promise<void> }[] = [];
  const replicas: BenchReplica[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(replicas.map((r) => r.proc.stop(15_000)));
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ports = await Promise.all(Array.from({ length: opts.replicas }, () => freePort()));
    // PostgreSQL, NATS, HAProxy and the cluster key at once: none needs another, and each mostly waits on its start.
    // Least connections spreads long-lived tunnels evenly, also after a replica comes back; HAProxy before the
    // replicas, since every replica advertises its address.
    const servers = await Promise.allSettled([
      startPostgresServer(),
      startNatsServer(),
      startHaproxy({ backends: ports.map((port) => ({ host: '127.0.0.1', port })), balance: 'leastconn', maxconn: opts.maxconn }),
      run(process.execPath, [OKESU, 'cp', 'cluster-key', '--out', keyFile]),
    ] as const);
    for (const s of servers.slice(0, 3)) if (s.status === 'fulfilled') started.push(s.value as { stop(): Promise<void> });
    const failed = servers.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const [postgres, nats, balancer] = servers.map((s) => (s as PromiseFulfilledResult<unknown>).value) as [StartedPostgresServer, TestNatsServer, TestHaproxy];
    const shared = ['--store', postgres.url, '--bus', nats.url, '--cluster-key-file', keyFile, '--lease-ttl', '3s', '--san', '127.0.0.1',
      '--advertise-url', `https://127.0.0.1:${balancer.port}`, ...(opts.cpArgs ?? [])];
    await Promise.all(ports.map(async (port, i) => {
      const id = `replica-${String.fromCharCode(97 + i)}`;
      const stateDir = join(dir, id);
      const args = [...shared, '--replica-id', id, '--replica-url', `https://127.0.0.1:${port}`];
      const r: BenchReplica = {
        id, port, stateDir, proc: await spawnCp(stateDir, `127.0.0.1:${port}`, args),
        async kill(signal) {
          r.proc.child.kill(signal);
          await r.proc.exited;
        },
      };
      replicas.push(r);
    }));
    replicas.sort((a, b) => a.id.localeCompare(b.id));
    // The replica that initialised the cluster wrote the admin context (its token is the cluster's first admin).
    const adminDir = await waitUntil('an admin.yaml', () => replicas.find((r) => existsSync(join(r.stateDir, 'admin.yaml')))?.stateDir, 30_000, 50);
    const config = readAdminConfig(adminDir);
    const view = (): Promise<ReplicasResponse> => getReplicas(config);
    await waitUntil('every replica alive and one leader', async () => {
      const v = await view();
      return v.replicas.filter((r) => r.alive).length === opts.replicas && v.replicas.filter((r) => r.leader).length === 1;
    }, 60_000, 100);
    // HAProxy marked replicas that were not listening yet as down; each is back after one good check (500 ms).
    for (const i of ports.keys()) await balancer.waitForStatus(i, 'UP');
    return { port: balancer.port, config, admin: createOperatorClient(config, { timeoutMs: 60_000 }), replicas, balancer, postgres, nats, view, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** `GET /v1/replicas` with the admin context (the operator client does not carry this call). */
function getReplicas(config: ClientConfig): Promise<ReplicasResponse> {
  const url = new URL('/v1/replicas', config.cp);
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca: config.ca, headers: { authorization: `Bearer ${config.token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) return reject(new Error(`GET /v1/replicas: HTTP ${res.statusCode} ${text}`));
        try {
          resolve(replicasResponseSchema.parse(JSON.parse(text)));
        } catch (err) {
          reject(err as Error);
        }
      });
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error('GET /v1/replicas timed out')));
    req.on('error', reject);
  });
}

/** CPU seconds PostgreSQL used so far: the postmaster and every process it forked (backends, WAL writer, …) alive now. */
export function postgresCpuSeconds(postgres: StartedPostgresServer): number {
  const master = Number(readFileSync(join(postgres.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 4 (ppid) is the second after the command name, which may hold spaces: split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (Number(entry) === master || ppid === master) total += readProc(Number(entry)).cpuSeconds;
    } catch {
      // The process exited between the listing and the read.
    }
  }
  return total;
}
