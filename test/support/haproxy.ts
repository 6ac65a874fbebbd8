import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exited, freePort, spawnServer, waitForPort } from './child-servers.js';

/** Debian's HAProxy (scripts/install-test-deps.sh installs it). */
export const HAPROXY = '/usr/sbin/haproxy';

/** One server behind the balancer. */
export interface HaproxyBackend {
  host: string;
  port: number;
}

/** What HAProxy thinks of a backend server: `UP`, `DOWN`, `MAINT` (disabled), or a transition such as `UP 1/2`. */
export type BackendStatus = string;

/** A test-owned HAProxy in TCP mode on 127.0.0.1 (TLS, mutual or not, passes through to the backends untouched). */
export interface TestHaproxy {
  readonly port: number;
  readonly dir: string;
  /** HAProxy's output so far (for failure messages). */
  log(): string;
  /** Each backend's status, in the order given. */
  statuses(): Promise<BackendStatus[]>;
  /** Each backend's current connections (sessions) as HAProxy counts them, in the order given. */
  sessions(): Promise<number[]>;
  /** Resolves once backend `i`'s status starts with `status` (health checks every 500 ms: down after 2 fails, up after 1). */
  waitForStatus(i: number, status: 'UP' | 'DOWN' | 'MAINT', timeoutMs?: number): Promise<void>;
  /** Puts backend `i` into maintenance (no new connections) through the admin socket; `enableBackend` takes it back. */
  disableBackend(i: number): Promise<void>;
  enableBackend(i: number): Promise<void>;
  stop(): Promise<void>;
}

/** How to balance: `roundrobin` (the default) or `leastconn` (long-lived tunnels). */
export interface StartHaproxyOptions {
  backends: HaproxyBackend[];
  balance?: 'roundrobin' | 'leastconn';
  /** Where the config and admin socket go (a fresh temp dir by default; removed by `stop()` only when made here). */
  dir?: string;
  /** Connections HAProxy accepts at once (default 1024; a benchmark fleet holds thousands of tunnels). */
  maxconn?: number;
}

/** Writes the TCP-mode config: one frontend on `port`, one backend with a health-checked server per entry. */
export function haproxyConfig(port: number, socket: string, opts: StartHaproxyOptions): string {
  return [
    'global',
    `  stats socket ${socket} mode 600 level admin`,
    `  maxconn ${opts.maxconn ?? 1024}`,
    'defaults',
    '  mode tcp',
    ...(opts.maxconn ? [`  maxconn ${opts.maxconn}`] : []),
    '  timeout connect 2s',
    '  timeout client 1h',
    '  timeout server 1h',
    '  timeout check 1s',
    // A connection refused by a backend not yet marked down is retried on another one.
    '  option redispatch',
    '  retries 2',
    'frontend okesu',
    `  bind 127.0.0.1:${port}`,
    '  default_backend replicas',
    'backend replicas',
    `  balance ${opts.balance ?? 'roundrobin'}`,
    ...opts.backends.map((b, i) => `  server b${i} ${b.host}:${b.port} check inter 500 fall 2 rise 1`),
    '',
  ].join('\n');
}

/** Starts `haproxy -f CFG -db` on a free port; resolves once it accepts connections. */
export async function startHaproxy(opts: StartHaproxyOptions): Promise<TestHaproxy> {
  if (opts.backends.length === 0) throw new Error('startHaproxy needs at least one backend');
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'okesu-haproxy-'));
  const port = await freePort();
  const socket = join(dir, 'admin.sock');
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, haproxyConfig(port, socket, opts));
  const { child, output } = await spawnServer(HAPROXY, ['-f', cfg, '-db']);
  try {
    await waitForPort(port, child, output);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }

  const admin = (command: string): Promise<string> => adminCommand(socket, command);
  async function column(name: string): Promise<string[]> {
    // `show stat` is CSV: `# pxname,svname,…` then one row per proxy and server.
    const lines = (await admin('show stat')).split('\n');
    const at = (lines[0] ?? '').replace(/^# /, '').split(',').indexOf(name);
    const byName = new Map(lines.slice(1).map((l) => l.split(',')).filter((f) => f[0] === 'replicas').map((f) => [f[1], f[at] ?? '']));
    return opts.backends.map((_, i) => byName.get(`b${i}`) ?? 'unknown');
  }
  const statuses = (): Promise<BackendStatus[]> => column('status');
  return {
    port,
    dir,
    log: output,
    statuses,
    sessions: async () => (await column('scur')).map(Number),
    async waitForStatus(i, status, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const now = (await statuses())[i] ?? '';
        if (now === status || now.startsWith(`${status} `)) return;
        if (Date.now() > deadline) throw new Error(`haproxy backend b${i} is ${now}, not ${status}, after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async disableBackend(i) {
      await admin(`disable server replicas/b${i}`);
    },
    async enableBackend(i) {
      await admin(`enable server replicas/b${i}`);
    },
    async stop() {
      child.kill('SIGTERM');
      await exited(child);
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Sends one command to HAProxy's admin socket and resolves with its answer (the socket closes after it). */
function adminCommand(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(socket);
    let out = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (out += d));
    s.once('error', reject);
    s.once('end', () => resolve(out));
    s.end(`${command}\n`);
  });
}
