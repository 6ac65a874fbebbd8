import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, readlinkSync, realpathSync, symlinkSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { fingerprintFinding } from '../../src/protocol/fingerprint.js';
import type { CliEvent, Inputs } from '../agents/sandbox.js';
import { hasTool } from '../agents/sandbox.js';
import { waitFor } from '../daimon/run-helpers.js';

// What the instance-threat cases plant: children started from the sandbox (so process_scope sees only them),
// loopback sockets, SSH keys. Each helper returns something `stop()` undoes.

/** Inputs that point every instance-threat collector at the sandbox, so a run is quick and sees only what a case plants. */
export function quietInputs(dir: string): Inputs {
  for (const d of ['suid', 'cron']) mkdirSync(join(dir, d), { recursive: true });
  return {
    miner_ports: ['1'],
    miner_names: ['okesu-no-such-miner'],
    process_scope: [dir],
    setuid_roots: [join(dir, 'suid')],
    setuid_exclude: [],
    authorized_keys: [join(dir, 'authorized_keys')],
    preload_files: [join(dir, 'ld.so.preload')],
    cron_paths: [join(dir, 'cron')],
    cron_script_dirs: [join(dir, 'cron.daily')],
    metadata_addresses: [],
    core_pattern_file: join(dir, 'core_pattern'),
    release_agent_files: [join(dir, 'cgroup', '*', 'release_agent')],
    runtime_sockets: [join(dir, 'docker.sock')],
  };
}

/** Children a case started; `stop` kills each one's process group. */
export class Children {
  private readonly all: ChildProcess[] = [];

  /**
   * Copies `source` (a binary) to `dir/name` and runs it with `args` (and `env` over this process's), in its own
   * process group; resolves once the exec happened (/proc/PID/exe is the copy).
   */
  async start(dir: string, name: string, source: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
    mkdirSync(dir, { recursive: true });
    const exe = join(dir, name);
    copyFileSync(realpathSync(source), exe);
    chmodSync(exe, 0o755);
    return this.spawnAndWait(exe, args, env, exe);
  }

  /** Runs `target` through a symlink `dir/name`, so the process's comm is `name` (the kernel takes it from the path run). */
  async startLinked(dir: string, name: string, target: string, args: string[]): Promise<number> {
    const link = join(dir, name);
    symlinkSync(realpathSync(target), link);
    return this.spawnAndWait(link, args, {}, realpathSync(target), name);
  }

  private async spawnAndWait(file: string, args: string[], env: NodeJS.ProcessEnv, exe: string, comm?: string): Promise<number> {
    const child = spawn(file, args, { env: { ...process.env, ...env }, stdio: 'ignore', detached: true });
    this.all.push(child);
    const pid = child.pid;
    if (pid === undefined) throw new Error(`cannot start ${file}`);
    await waitFor(() => readOr(`/proc/${pid}/exe`).startsWith(exe) && (comm === undefined || commOf(pid) === comm), 10_000, `${file} to start`);
    return pid;
  }

  async stop(): Promise<void> {
    await Promise.all(this.all.map(async (child) => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      await exited;
    }));
    this.all.length = 0;
  }
}

function readOr(link: string): string {
  try {
    return readlinkSync(link);
  } catch {
    return '';
  }
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Servers and sockets a case opened on loopback; `close` ends them. */
export class Sockets {
  private readonly servers: Server[] = [];
  private readonly sockets: Socket[] = [];
  private readonly waiting: (() => void)[] = [];

  /** Calls `cb` at the next connection any of these listeners accepts. */
  onConnection(cb: () => void): void {
    this.waiting.push(cb);
  }

  private accepted(s: Socket): void {
    this.sockets.push(s);
    for (const cb of this.waiting.splice(0)) cb();
  }

  /** A TCP listener on `host:port` (port 0: any free one); resolves with its port. */
  async listen(host: string, port = 0): Promise<number> {
    const server = createServer((s) => this.accepted(s));
    this.servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const a = server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  /** A Unix socket listening at `path` (a stand-in for docker.sock). */
  async listenUnix(path: string): Promise<void> {
    const server = createServer((s) => this.accepted(s));
    this.servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
  }

  /** A TCP connection from this process to `host:port`, optionally from a given local port; resolves once connected. */
  async connect(host: string, port: number, localPort?: number): Promise<void> {
    const s = connect({ host, port, ...(localPort !== undefined && { localAddress: '127.0.0.1', localPort }) });
    this.sockets.push(s);
    await new Promise<void>((resolve, reject) => {
      s.once('connect', () => resolve());
      s.once('error', reject);
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** A free TCP port on 127.0.0.1 (bound and released). */
export async function freePort(): Promise<number> {
  const s = new Sockets();
  const port = await s.listen('127.0.0.1');
  await s.close();
  return port;
}

/** A loopback address of its own (127.x.y.z, not 127.0.0.x), so only what a case does there is seen. */
export function ownLoopback(): string {
  const b = () => 1 + Math.floor(Math.random() * 254);
  return `127.${b()}.${b()}.${b()}`;
}

/** An ed25519 public key line and the identifier the authorized_keys collector prints for it. */
export function sshKey(comment: string): { line: string; id: string } {
  const raw = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const field = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  const blob = Buffer.concat([field(Buffer.from('ssh-ed25519')), field(raw)]);
  const fingerprint = `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
  const b64 = blob.toString('base64');
  return { line: `ssh-ed25519 ${b64} ${comment}`, id: hasTool('ssh-keygen') ? fingerprint : `blob:${b64.replace(/=+$/, '').slice(-43)}` };
}

/** Throws unless the findings are at least `count` and all share one fingerprint (one problem, one group). */
export function expectOneGroup(findings: CliEvent[], count: number): void {
  const prints = new Set(findings.map((f) => fingerprintFinding(f as unknown as Parameters<typeof fingerprintFinding>[0])));
  if (findings.length < count || prints.size !== 1) {
    throw new Error(`expected ${count}+ findings in one group, got ${findings.length} in ${prints.size}: ${JSON.stringify(findings.map((f) => [f.resource, f.dedup_key]))}`);
  }
}
