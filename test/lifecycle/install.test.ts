import { spawnSync } from 'node:child_process';
import type { SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, copyFileSync, existsSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { HostView } from '../../src/protocol/api.js';
import { readInstallResult, type InstallResult } from '../../src/protocol/install-outcome.js';
import { processAlive, stopDetachedSupervisor } from '../../src/lifecycle/install/detached-supervisor.js';
import { OKESU, okesuJson, runOkesu, startCp, stop, tempDir, waitFor } from '../e2e/harness.js';
import type { CpProcess } from '../e2e/harness.js';

let cp: CpProcess;
beforeAll(async () => {
  cp = await startCp(tempDir('install-cp'));
});
// A failed test must not leave a detached supervisor (and its daimon) running.
const prefixes: string[] = [];
afterAll(async () => {
  await Promise.all(prefixes.map((p) => stopDetachedSupervisor(join(p, 'var/lib/okesu/supervise.pid'), 5000)));
  await stop(cp?.proc);
});

/** Runs `okesu ARGS` from `binary` (default the bundle) to completion. */
async function okesu(args: string[], binary = OKESU): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { spawnOkesu } = await import('../e2e/harness.js');
  const p = spawnOkesu(args, {}, binary);
  const code = await p.exited;
  await new Promise((r) => setImmediate(r));
  return { code, stdout: p.stdoutLines.join('\n'), stderr: p.stderr() };
}

/** Every file under `dir` (recursively), symlinks not followed. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

const joinToken = async (): Promise<string> => (await runOkesu(['token', 'create', '--join'], cp.env)).stdout.trim();
const hosts = async (): Promise<HostView[]> => okesuJson<HostView[]>(['hosts'], cp.env);
// Compared by hash: a deep equality of two 4 MB buffers takes vitest minutes.
const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);

describe('okesu install --init none, uninstall', () => {
  it('--dry-run prints every step and writes nothing', async () => {
    const prefix = join(tempDir('install-dry'), 'root');
    const r = await okesu(['install', '--cp', cp.url, '--token', await joinToken(), '--prefix', prefix, '--init', 'none', '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('dry run, would be installed');
    expect(r.stdout).toMatch(/would: copy .* to .*\/usr\/local\/bin\/okesu \(0755/);
    expect(r.stdout).toMatch(/would: register with https:\/\/127\.0\.0\.1/);
    expect(r.stdout).toMatch(/would: start .*supervise --state .*var\/lib\/okesu -- daemon/);
    expect(existsSync(prefix)).toBe(false);
    const un = await okesu(['uninstall', '--prefix', prefix, '--purge', '--dry-run']);
    expect(un.code, un.stderr).toBe(0);
    expect(existsSync(prefix)).toBe(false);
  });

  it('refuses to install with no identity and no token, saying what to give', async () => {
    const prefix = join(tempDir('install-notoken'), 'root');
    const r = await okesu(['install', '--prefix', prefix, '--init', 'none', '--no-wait']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/OKS_ERR_CONFIG: .*--cp URL --token JOIN/);
    expect(existsSync(prefix)).toBe(false);
  });

  it('installs, registers in place (the token lands nowhere), and a reinstall is unchanged with the same identity', async () => {
    const prefix = join(tempDir('install-reg'), 'root');
    prefixes.push(prefix);
    const token = await joinToken();
    const first = await okesu(['install', '--cp', cp.url, '--token', token, '--prefix', prefix, '--init', 'none', '--no-wait', '--hostname', 'inst-reg', '--label', 'env=test']);
    expect(first.code, first.stderr).toBe(0);
    expect(readInstallResult(first.stdout)).toEqual({ outcome: 'installed', hostname: 'inst-reg', version: expect.any(String), state_dir: join(prefix, 'var/lib/okesu') });
    const exe = join(prefix, 'usr/local/bin/okesu');
    const state = join(prefix, 'var/lib/okesu');
    expect(sha256(exe)).toBe(sha256(OKESU));
    expect(mode(exe)).toBe('755');
    expect(mode(state)).toBe('700');
    // The bundle keeps an .mjs name in bin/ (node will not load a script named okesu-1.2.3) and bin/current names it.
    expect(readlinkSync(join(state, 'bin/current'))).toMatch(/^okesu-[0-9.]+\.mjs$/);
    expect(sha256(join(state, 'bin', readlinkSync(join(state, 'bin/current'))))).toBe(sha256(OKESU));
    const facts = JSON.parse(readFileSync(join(state, 'install.json'), 'utf8')) as { daemon_args: string[]; hostname: string };
    expect(facts.daemon_args).toEqual(['--label', 'env=test']);
    expect(facts.hostname).toBe('inst-reg');
    expect(filesUnder(prefix).filter((f) => readFileSync(f, 'latin1').includes(token))).toEqual([]);
    expect((await hosts()).filter((h) => h.hostname === 'inst-reg')).toHaveLength(1);

    const identity = readFileSync(join(state, 'identity.json'), 'utf8');
    const again = await okesu(['install', '--prefix', prefix, '--init', 'none', '--no-wait', '--json', '--label', 'env=test']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ outcome: 'unchanged', hostname: 'inst-reg', version: expect.any(String), state_dir: state });
    expect(readFileSync(join(state, 'identity.json'), 'utf8')).toBe(identity);

    const un = await okesu(['uninstall', '--prefix', prefix]);
    expect(un.code, un.stderr).toBe(0);
    expect(existsSync(exe)).toBe(false);
    expect(readFileSync(join(state, 'identity.json'), 'utf8')).toBe(identity);
    const purge = await okesu(['uninstall', '--prefix', prefix, '--purge']);
    expect(purge.code, purge.stderr).toBe(0);
    expect(existsSync(state)).toBe(false);
  });
});

describe('okesu install --init systemd under a prefix', () => {
  it('writes the hardened unit naming the files where they are, starts nothing and says what to run; uninstall removes it', async () => {
    const prefix = join(tempDir('install-unit'), 'root');
    const r = await okesu(['install', '--cp', cp.url, '--token', await joinToken(), '--prefix', prefix, '--init', 'systemd', '--hostname', 'inst-unit', '--enable', 'edr', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as InstallResult).outcome).toBe('installed');
    expect(r.stderr).toMatch(/skip: user okesu: created only when installing to \//);
    expect(r.stderr).toMatch(/note: systemd does not run under the prefix .*: to start the daimon, run systemctl daemon-reload && systemctl enable --now okesu/);
    const unitPath = join(prefix, 'etc/systemd/system/okesu.service');
    const unit = readFileSync(unitPath, 'utf8');
    const state = join(prefix, 'var/lib/okesu');
    expect(unit).toContain(`ExecStart=${join(prefix, 'usr/local/bin/okesu')} supervise --state ${state} -- daemon --state ${state} --enable edr\n`);
    expect(unit).toContain(`ReadWritePaths=${state}\n`);
    expect(unit).toContain('User=okesu\n');
    expect(mode(unitPath)).toBe('644');
    expect(mode(join(state, 'tmp'))).toBe('700');
    expect(existsSync(join(state, 'supervise.pid'))).toBe(false);
    if (spawnSync('which', ['systemd-analyze']).status === 0) {
      const verify = spawnSync('systemd-analyze', ['verify', unitPath], { encoding: 'utf8' });
      expect(verify.status, verify.stderr).toBe(0);
      expect(verify.stderr.split('\n').filter((l) => l.includes('okesu.service'))).toEqual([]);
    }
    const un = await okesu(['uninstall', '--prefix', prefix]);
    expect(un.code, un.stderr).toBe(0);
    expect(existsSync(unitPath)).toBe(false);
    expect(existsSync(join(state, 'identity.json'))).toBe(true);
  });
});

describe('okesu install --init none under okesu supervise', () => {
  it('starts the daimon (first heartbeat), reinstall is a no-op, another executable upgrades it, uninstall stops it', async () => {
    const prefix = join(tempDir('install-run'), 'root');
    prefixes.push(prefix);
    const state = join(prefix, 'var/lib/okesu');
    const pidFile = join(state, 'supervise.pid');
    const first = await okesu(['install', '--cp', cp.url, '--token', await joinToken(), '--prefix', prefix, '--init', 'none', '--hostname', 'inst-run', '--json', '--wait-timeout', '40s']);
    expect(first.code, first.stderr).toBe(0);
    expect((JSON.parse(first.stdout) as InstallResult).outcome).toBe('installed');
    const health = JSON.parse(readFileSync(join(state, 'health.json'), 'utf8')) as { hostname: string };
    expect(health.hostname).toBe('inst-run');
    await waitFor('inst-run online', async () => (await hosts()).some((h) => h.hostname === 'inst-run' && h.connected));
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(processAlive(pid)).toBe(true);

    // Same executable: nothing happens (no restart, no second identity).
    const identity = readFileSync(join(state, 'identity.json'), 'utf8');
    const same = await okesu(['install', '--prefix', prefix, '--init', 'none', '--json']);
    expect(same.code, same.stderr).toBe(0);
    expect((JSON.parse(same.stdout) as InstallResult).outcome).toBe('unchanged');
    expect(Number(readFileSync(pidFile, 'utf8'))).toBe(pid);
    expect(readFileSync(join(state, 'identity.json'), 'utf8')).toBe(identity);

    // Another executable (the bundle with one more byte): replaced, restarted, the same host.
    const other = join(tempDir('install-other'), 'okesu.js');
    copyFileSync(OKESU, other);
    appendFileSync(other, '\n// another build\n');
    const up = await okesu(['install', '--prefix', prefix, '--init', 'none', '--wait-timeout', '40s'], other);
    expect(up.code, up.stderr).toBe(0);
    expect(readInstallResult(up.stdout)?.outcome).toBe('upgraded');
    expect(sha256(join(prefix, 'usr/local/bin/okesu'))).toBe(sha256(other));
    expect(processAlive(pid)).toBe(false);
    const newPid = Number(readFileSync(pidFile, 'utf8'));
    expect(processAlive(newPid)).toBe(true);
    expect(readFileSync(join(state, 'identity.json'), 'utf8')).toBe(identity);
    expect((await hosts()).filter((h) => h.hostname === 'inst-run')).toHaveLength(1);

    const un = await okesu(['uninstall', '--prefix', prefix, '--purge']);
    expect(un.code, un.stderr).toBe(0);
    expect(processAlive(newPid)).toBe(false);
    expect(existsSync(prefix + '/usr/local/bin/okesu')).toBe(false);
    expect(existsSync(state)).toBe(false);
    await waitFor('inst-run offline', async () => (await hosts()).some((h) => h.hostname === 'inst-run' && !h.connected));
  });
});

const SEA = join(OKESU, '..', 'okesu-linux-x64');
// `npm run build` (part of `npm test`) makes the single executable.
describe('okesu install from the single executable', () => {
  it('copies itself to bin/okesu-VERSION, points bin/current at it, and the supervisor starts that', async () => {
    const prefix = join(tempDir('install-sea'), 'root');
    prefixes.push(prefix);
    const state = join(prefix, 'var/lib/okesu');
    const run = (args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> => spawnSync(SEA, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
    const r = run(['install', '--cp', cp.url, '--prefix', prefix, '--init', 'none', '--hostname', 'inst-sea', '--json', '--wait-timeout', '40s'], { OKESU_JOIN_TOKEN: await joinToken() });
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as InstallResult).outcome).toBe('installed');
    const current = readlinkSync(join(state, 'bin/current'));
    expect(current).toMatch(/^okesu-\d/);
    expect(sha256(join(state, 'bin', current))).toBe(sha256(SEA));
    expect(readFileSync(join(state, 'daimon.log'), 'utf8')).toContain(join(state, 'bin', current));
    await waitFor('inst-sea online', async () => (await hosts()).some((h) => h.hostname === 'inst-sea' && h.connected));
    const un = run(['uninstall', '--prefix', prefix, '--purge']);
    expect(un.status, un.stderr).toBe(0);
    expect(existsSync(state)).toBe(false);
  });
});

