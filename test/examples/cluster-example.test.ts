import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { replicasResponseSchema } from '../../src/protocol/replicas.js';
import { testDeps } from '../cli/helpers.js';
import { freePort } from '../support/child-servers.js';
import { OKESU, runOkesu, waitFor } from '../e2e/harness.js';

const run = promisify(execFile);
const DIR = join(import.meta.dirname, '..', '..', 'examples', 'cluster');
const CFG = join(DIR, 'haproxy.cfg');
const SCRIPT = join(DIR, 'run-local.sh');

/** The `--flags` of every `okesu cp serve` command in a text (continued lines joined). */
function cpServeFlags(text: string): string[] {
  const joined = text.replace(/\\\n/g, ' ');
  const commands = joined.split('\n').filter((l) => /cp serve /.test(l) && !/^\s*#/.test(l));
  return [...new Set(commands.flatMap((l) => [...l.slice(l.indexOf('cp serve')).matchAll(/(--[a-z][a-z-]*)/g)].map((m) => m[1] as string)))];
}

describe('examples/cluster', () => {
  it('haproxy.cfg is valid for haproxy -c', async () => {
    const { stdout } = await run('haproxy', ['-c', '-f', CFG]);
    expect(stdout).toContain('Configuration file is valid');
  });

  it('haproxy.cfg: TCP mode, one frontend, a backend with a health-checked server per replica', () => {
    const cfg = readFileSync(CFG, 'utf8');
    expect(cfg).toMatch(/^\s*mode tcp$/m);
    expect(cfg.match(/^frontend /gm)).toHaveLength(1);
    expect(cfg).toMatch(/http-check send meth GET uri \/v1\/health/);
    expect(cfg.match(/^\s*server \S+ \S+/gm)).toHaveLength(2);
    expect(cfg).toMatch(/default-server check check-ssl/);
  });

  it('run-local.sh is valid bash', async () => {
    await run('bash', ['-n', SCRIPT]);
  });

  it('the README and run-local.sh use only flags okesu cp serve has', async () => {
    const deps = testDeps();
    await runCli(['cp', 'serve', '--help'], deps);
    const help = deps.stdout.text();
    const used = [...cpServeFlags(readFileSync(join(DIR, 'README.md'), 'utf8')), ...cpServeFlags(readFileSync(SCRIPT, 'utf8'))];
    expect(used).toEqual(expect.arrayContaining(['--store', '--bus', '--cluster-key-file', '--replica-id', '--san', '--advertise-url']));
    expect(used.filter((f) => !help.includes(`${f} `) && !help.includes(`${f}\n`))).toEqual([]);
  });

  it('run-local.sh starts Postgres, NATS, two replicas and HAProxy, answers through the balancer, and Ctrl-C stops it all', async () => {
    const [balancer, a, b, pg, nats] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    const env = { ...process.env, OKESU: `${process.execPath} ${OKESU}`, BALANCER_PORT: `${balancer}`, REPLICA_A_PORT: `${a}`, REPLICA_B_PORT: `${b}`, PG_PORT: `${pg}`, NATS_PORT: `${nats}` };
    const child = spawn('bash', [SCRIPT], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor('the cluster to be ready', () => {
        if (child.exitCode !== null) throw new Error(`run-local.sh exited ${child.exitCode}: ${out}`);
        return out.includes('okesu cluster ready');
      }, 90_000);
      const admin = /export OKESU_CONFIG=(\S+)/.exec(out)?.[1] as string;
      const work = /working in (\S+)/.exec(out)?.[1] as string;
      expect(readFileSync(admin, 'utf8')).toContain(`https://127.0.0.1:${balancer}`);
      const view = await waitFor('both replicas listed, one leading', async () => {
        const r = await runOkesu(['cp', 'replicas', '--json'], { OKESU_CONFIG: admin });
        if (r.code !== 0) throw new Error(r.stderr);
        const v = replicasResponseSchema.parse(JSON.parse(r.stdout));
        return v.replicas.filter((x) => x.alive).length === 2 && v.replicas.filter((x) => x.leader).length === 1 ? v : undefined;
      }, 30_000, 250);
      expect(view.mode).toBe('cluster');
      expect(view.replicas.map((r) => r.id).sort()).toEqual(['replica-a', 'replica-b']);

      child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(existsSync(work)).toBe(false);
      // Nothing it started still listens.
      for (const port of [balancer, a, b, pg, nats]) await expect(run('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`])).rejects.toThrow();
    } finally {
      if (child.exitCode === null) child.kill('SIGINT');
      await exited;
    }
  }, 150_000);
});
