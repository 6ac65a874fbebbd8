import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { clientConfigSchema, type ClientConfig } from '../../src/protocol/client-config.js';
import type { ReplicasResponse } from '../../src/protocol/replicas.js';
import { createOperatorClient, type OperatorClient } from '../../src/transport/operator-client.js';
import { runOkesu, spawnOkesu, tempDir, waitFor, type OkesuProcess } from '../e2e/harness.js';
import { freePort } from './child-servers.js';
import { startHaproxy, type TestHaproxy } from './haproxy.js';
import { testNatsUrl } from './nats.js';
import { testPostgresUrl, type TestPostgresDatabase } from './postgres.js';

/** One `okesu cp serve` replica of a test cluster (a child process of `node dist/okesu.js`). */
export interface ClusterReplica {
  readonly id: string;
  /** Its own address, not the balancer's. */
  readonly url: string;
  readonly port: number;
  readonly stateDir: string;
  /** The running process (the last one started), its output captured. */
  proc(): OkesuProcess;
  /** True while its process runs. */
  running(): boolean;
  /** An admin context file pointing at this replica directly (same token and CA as the balancer's). */
  readonly adminFile: string;
  /** Environment for `okesu` commands aimed at this replica (OKESU_CONFIG). */
  readonly env: NodeJS.ProcessEnv;
  /** An operator client aimed at this replica directly. */
  client(): OperatorClient;
  /** Sends `signal` (default SIGTERM) and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again with the same id, port and state dir; resolves once it listens. */
  restart(): Promise<void>;
}

/** A test cluster: N replicas on one fresh Postgres database and the run's NATS server, HAProxy in front. */
export interface TestCluster {
  readonly balancerUrl: string;
  readonly balancer: TestHaproxy;
  readonly replicas: readonly ClusterReplica[];
  /** The admin context (admin.yaml) pointing at the balancer. */
  readonly admin: ClientConfig;
  readonly adminFile: string;
  /** Environment for `okesu` commands through the balancer (OKESU_CONFIG). */
  readonly env: NodeJS.ProcessEnv;
  /** An operator client through the balancer. */
  client(): OperatorClient;
  /** `GET /v1/replicas` through the balancer. */
  view(): Promise<ReplicasResponse>;
  /** Waits until every running replica, asked directly, lists every running one alive and the same one leader; returns the balancer's view. */
  waitForLeader(timeoutMs?: number): Promise<ReplicasResponse>;
  readonly database: TestPostgresDatabase;
  readonly dir: string;
  /** Stops what it started (replicas, HAProxy), drops the database and removes the temp dir. */
  stop(): Promise<void>;
}

/** How to start a test cluster. */
export interface StartClusterOptions {
  /** How many replicas (default 2). */
  replicas?: number;
  /** The leader lease's TTL (default 3s). */
  leaseTtl?: string;
  /** More `cp serve` flags for every replica (e.g. --heartbeat-interval, --agents). */
  extraArgs?: string[];
}

/**
 * Starts `node dist/okesu.js cp serve` N times on one fresh Postgres database and the run's NATS server, with a shared
 * cluster key, state dirs in a temp dir, fixed free ports and `--lease-ttl 3s`, HAProxy in front; resolves once every
 * replica answers and one leads.
 */
export async function startCluster(opts: StartClusterOptions = {}): Promise<TestCluster> {
  const n = opts.replicas ?? 2;
  const dir = tempDir('cluster');
  const database = await testPostgresUrl();
  const bus = testNatsUrl();
  const keyFile = join(dir, 'cluster.key');
  const made = await runOkesu(['cp', 'cluster-key', '--out', keyFile]);
  if (made.code !== 0) throw new Error(`okesu cp cluster-key failed: ${made.stderr}`);
  const ports = await Promise.all(Array.from({ length: n }, () => freePort()));
  // HAProxy first: its port is the URL every replica advertises (admin.yaml) and names in its certificate.
  const balancer = await startHaproxy({ backends: ports.map((port) => ({ host: '127.0.0.1', port })), balance: 'leastconn' });
  const balancerUrl = `https://127.0.0.1:${balancer.port}`;

  const replicas: Replica[] = ports.map((port, i) => new Replica(`replica-${String.fromCharCode(97 + i)}`, port, join(dir, `replica-${i}`), [
    '--store', database.url, '--bus', bus, '--cluster-key-file', keyFile, '--lease-ttl', opts.leaseTtl ?? '3s',
    '--san', '127.0.0.1', '--advertise-url', balancerUrl, ...(opts.extraArgs ?? []),
  ]));
  const stopAll = async (): Promise<void> => {
    await Promise.all(replicas.map((r) => r.kill('SIGTERM')));
    await balancer.stop();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // Started together, as an operator starting a cluster would: they agree on one CA and one admin token through the store.
    await Promise.all(replicas.map((r) => r.start()));
    const adminFile = await waitFor('an admin.yaml', () => replicas.map((r) => join(r.stateDir, 'admin.yaml')).find((f) => existsSync(f)));
    const admin = clientConfigSchema.parse(parseYaml(readFileSync(adminFile, 'utf8')));
    for (const r of replicas) r.setAdmin(admin, join(dir, `${r.id}.yaml`));
    const client = (): OperatorClient => createOperatorClient(admin, { timeoutMs: 15_000 });
    const view = (): Promise<ReplicasResponse> => client().replicas();
    // Steady: every running replica, asked directly, lists every running one alive and names the same single leader
    // (a replica refreshes its list at its own heartbeat, every 2 s, so right after a start they may differ).
    const waitForLeader = (timeoutMs = 30_000): Promise<ReplicasResponse> =>
      waitFor('every running replica alive and one leader, as each replica sees it', async () => {
        const running = replicas.filter((r) => r.running());
        const views = await Promise.all(running.map((r) => r.client().replicas()));
        const leaders = new Set<string>();
        for (const v of views) {
          const alive = v.replicas.filter((r) => r.alive).map((r) => r.id);
          const leading = v.replicas.filter((r) => r.leader);
          if (!running.every((r) => alive.includes(r.id)) || leading.length !== 1) return undefined;
          leaders.add(leading[0]!.id);
        }
        return leaders.size === 1 ? view() : undefined;
      }, timeoutMs, 100);
    // Each replica answers on its own port too.
    await Promise.all(replicas.map((r) => waitFor(`${r.id} to answer`, () => r.client().whoami(), 30_000, 100)));
    await waitForLeader();
    return {
      balancerUrl, balancer, replicas, admin, adminFile, env: { OKESU_CONFIG: adminFile }, client, view, waitForLeader, database, dir,
      stop: stopAll,
    };
  } catch (err) {
    const logs = replicas.map((r) => `--- ${r.id}\n${r.log()}`).join('\n');
    await stopAll().catch(() => undefined);
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${logs}`);
  }
}

class Replica implements ClusterReplica {
  readonly url: string;
  adminFile = '';
  env: NodeJS.ProcessEnv = {};
  private config: ClientConfig | undefined;
  private current: OkesuProcess | undefined;
  private logs = '';

  constructor(
    readonly id: string,
    readonly port: number,
    readonly stateDir: string,
    private readonly args: string[],
  ) {
    this.url = `https://127.0.0.1:${port}`;
  }

  /** Starts `okesu cp serve` and waits for its "control plane on" line. */
  async start(): Promise<void> {
    const proc = spawnOkesu([
      'cp', 'serve', '--state', this.stateDir, '--listen', `127.0.0.1:${this.port}`, '--replica-id', this.id, '--replica-url', this.url,
      '--log-level', 'warn', ...this.args,
    ]);
    this.current = proc;
    await waitFor(`${this.id} to listen`, () => {
      if (proc.child.exitCode !== null || proc.child.signalCode !== null) throw new Error(`${this.id} exited: ${proc.stderr()}`);
      return /control plane on https:\/\//.test(proc.stderr());
    }, 60_000);
  }

  setAdmin(admin: ClientConfig, file: string): void {
    this.config = { ...admin, cp: this.url };
    writeFileSync(file, stringifyYaml(this.config), { mode: 0o600 });
    this.adminFile = file;
    this.env = { OKESU_CONFIG: file };
  }

  proc(): OkesuProcess {
    if (!this.current) throw new Error(`${this.id} was never started`);
    return this.current;
  }

  running(): boolean {
    const c = this.current?.child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  client(): OperatorClient {
    if (!this.config) throw new Error(`${this.id}: no admin context yet`);
    return createOperatorClient(this.config, { timeoutMs: 15_000 });
  }

  log(): string {
    return this.logs + (this.current?.stderr() ?? '');
  }

  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const p = this.current;
    if (!p || !this.running()) return;
    p.kill(signal);
    if (signal === 'SIGKILL') {
      await p.exited;
      return;
    }
    // A replica that does not stop within 15 s of SIGTERM is killed (and the test's log says so).
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), 15_000)));
    if ((await Promise.race([p.exited, late])) === 'late') {
      process.stderr.write(`${this.id} did not stop within 15 s of ${signal}; SIGKILL\n`);
      p.kill('SIGKILL');
      await p.exited;
    }
    clearTimeout(timer);
  }

  async restart(): Promise<void> {
    await this.kill('SIGTERM');
    this.logs += this.current?.stderr() ?? '';
    await this.start();
  }
}
