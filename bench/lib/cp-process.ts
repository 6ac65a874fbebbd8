import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { clientConfigSchema, type ClientConfig } from '../../src/protocol/client-config.js';
import { registerResponseSchema } from '../../src/protocol/api.js';
import { createOperatorClient, type OperatorClient } from '../../src/transport/operator-client.js';
import { generateHostKeyAndCsr } from '../../src/pki/host-key.js';
import { waitUntil } from './stats.js';

/** The bundled CLI every child process runs (`OKESU_BENCH_BIN=path` runs another build, e.g. to compare two). */
export const OKESU = resolve(process.env['OKESU_BENCH_BIN'] ?? resolve(import.meta.dirname, '../../dist/okesu.js'));

/** A child process with its stderr kept (bounded) for error messages. */
export interface Child {
  child: ChildProcess;
  pid: number;
  stderr(): string;
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts `node ARGS` as a child process; stdout is discarded, stderr kept (last 64 KiB). */
export function spawnNode(args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not start node ${args.join(' ')}`);
  return asChild(child);
}

/** Wraps a spawned process (with piped stderr) as a Child: its last 64 KiB of stderr kept, stop = SIGTERM then SIGKILL. */
export function asChild(child: ChildProcess): Child {
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-64 * 1024);
  });
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  return {
    child, pid: child.pid as number, exited, stderr: () => stderr,
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** An identity a simulated daimon obtained through `/v1/register`. */
export interface HostIdentity {
  hostname: string;
  key: string;
  cert: string;
  credential: string;
  ca: string;
}

/** A `okesu cp serve` child on loopback, its admin context and helpers that act through the public API only. */
export interface CpChild extends Child {
  stateDir: string;
  port: number;
  url: string;
  config: ClientConfig;
  admin: OperatorClient;
  /** Registers `hostname` with `joinToken` exactly as a daimon does: fresh key + CSR, POST /v1/register. */
  register(hostname: string, joinToken: string): Promise<HostIdentity>;
  /** Stops the CP and removes its state dir. */
  close(): Promise<void>;
}

/** Starts `okesu cp serve --listen 127.0.0.1:0` in a fresh state dir and waits until it listens. */
export async function startCpChild(extra: string[] = []): Promise<CpChild> {
  const stateDir = mkdtempSync(join(tmpdir(), 'okesu-bench-cp-'));
  // BENCH_CPU_PROF=DIR profiles the CP (`--cpu-prof`): the way to find where a missed target's time goes.
  const prof = process.env['BENCH_CPU_PROF'] ? ['--cpu-prof', '--cpu-prof-dir', resolve(process.env['BENCH_CPU_PROF'])] : [];
  const proc = spawnNode([...prof, OKESU, 'cp', 'serve', '--state', stateDir, '--listen', '127.0.0.1:0', '--log-level', 'warn', ...extra]);
  await waitUntil('the CP to listen', () => {
    if (proc.child.exitCode !== null) throw new Error(`cp exited ${proc.child.exitCode}: ${proc.stderr()}`);
    return /control plane on https:\/\//.test(proc.stderr());
  }, 30_000);
  const config = clientConfigSchema.parse(parseYaml(readFileSync(join(stateDir, 'admin.yaml'), 'utf8')));
  const port = Number(new URL(config.cp).port);
  return {
    ...proc, stateDir, port, url: config.cp, config,
    admin: createOperatorClient(config),
    async register(hostname, joinToken) {
      const { keyPem, csrPem } = await generateHostKeyAndCsr(hostname);
      const body = JSON.stringify({ token: joinToken, csr: csrPem, hostname, os: 'linux', arch: 'x64', version: 'bench' });
      const answer = await postJson(port, config.ca, '/v1/register', body);
      if (answer.status !== 201) throw new Error(`register ${hostname}: HTTP ${answer.status} ${answer.text}`);
      const res = registerResponseSchema.parse(JSON.parse(answer.text));
      return { hostname: res.hostname, key: keyPem, cert: res.certificate, credential: res.credential, ca: res.ca };
    },
    async close() {
      await proc.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

function postJson(port: number, ca: string, path: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolvePost, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, path, method: 'POST', ca, agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolvePost({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
