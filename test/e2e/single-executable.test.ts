import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostView } from '../../src/protocol/api.js';
import { captureOkesu, stop, tempDir, waitFor, type OkesuProcess } from './harness.js';
import { hasTmux, startTmux, type TmuxSession } from './tmux.js';

// The single executable (`npm run build` makes dist/okesu-linux-x64) copied alone into an empty directory and run
// from there: no node_modules, no dist/, no agents/ beside it. It embeds its own Node (24), so every role here —
// the CP with its native SQLite store, a daimon, operator commands and the console — runs on that Node, not the
// tests' one.
const BUILT = resolve(import.meta.dirname, '../../dist/okesu-linux-x64');
const HOST = 'e2e-sea1';

let dir: string;
let bin: string;
let env: NodeJS.ProcessEnv;
const procs: OkesuProcess[] = [];
let tty: TmuxSession | undefined;


/** Starts the copied executable with `args`, in its directory; PATH without node, no NODE_* from the tests. */
function spawnSea(args: string[], extraEnv: NodeJS.ProcessEnv = {}): OkesuProcess {
  const child = spawn(bin, args, { cwd: dir, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  const p = captureOkesu(child);
  procs.push(p);
  return p;
}

async function runSea(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runSeaWith(args, {});
}

async function runSeaWith(args: string[], extraEnv: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawnSea(args, extraEnv);
  const code = await p.exited;
  await new Promise((r) => setImmediate(r));
  return { code, stdout: p.stdoutLines.join('\n'), stderr: p.stderr() };
}

async function hosts(): Promise<HostView[]> {
  const r = await runSea(['hosts', '--json']);
  if (r.code !== 0) throw new Error(`hosts exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as HostView[];
}

beforeAll(() => {
  dir = tempDir('sea');
  bin = join(dir, 'okesu');
  copyFileSync(BUILT, bin);
  const { ANTHROPIC_API_KEY: _a, OPENAI_API_KEY: _o, NODE_OPTIONS: _n, ...inherited } = process.env;
  env = {
    ...inherited,
    PATH: '/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin'.split(':').filter((d) => !isNodeDir(d)).join(':'),
    OKESU_SEA_DIR: join(dir, 'unpacked'),
    OKESU_CONFIG: join(dir, 'cp', 'admin.yaml'),
  };
});

/** A PATH entry that holds a `node` (the tests' own); left out so nothing can fall back on it. */
function isNodeDir(d: string): boolean {
  try {
    return statSync(join(d, 'node')).isFile();
  } catch {
    return false;
  }
}

afterAll(async () => {
  await tty?.kill();
  await Promise.all(procs.splice(0).map((p) => stop(p, 'SIGKILL')));
});

describe('the single executable (dist/okesu-linux-x64), alone in an empty directory', () => {
  it('prints its version on its own Node and unpacks privately', async () => {
    const { version } = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string };
    const r = await runSea(['--version']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(version);
    expect(r.stderr).toBe('');
    const unpacked = join(dir, 'unpacked');
    expect(statSync(unpacked).mode & 0o777).toBe(0o700);
    const [id] = readdirSync(unpacked);
    expect(readdirSync(join(unpacked, id as string)).sort()).toEqual(['agents', 'dist', 'node_modules', 'package.json']);
  });

  it('refuses to unpack into a directory others can write, falls back from an unusable HOME, and restores a changed file', async () => {
    const shared = join(dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    const refused = await runSeaWith(['--version'], { OKESU_SEA_DIR: shared });
    expect(refused.code).toBe(70);
    expect(refused.stderr).toContain(`${shared} is writable by group or others (mode 777)`);
    expect(readdirSync(shared)).toEqual([]);

    // No OKESU_SEA_DIR and a HOME where nothing can be created (a file, not a directory): TMPDIR/okesu-UID is used.
    const tmp = join(dir, 'tmp');
    mkdirSync(tmp);
    const fallback = await runSeaWith(['--version'], { OKESU_SEA_DIR: '', XDG_CACHE_HOME: '', HOME: bin, TMPDIR: tmp });
    expect(fallback.code, fallback.stderr).toBe(0);
    expect(readdirSync(join(tmp, `okesu-${process.getuid?.() ?? 0}`))).toHaveLength(1);

    const unpacked = join(dir, 'unpacked');
    const bundle = join(unpacked, readdirSync(unpacked)[0] as string, 'dist', 'okesu.js');
    writeFileSync(bundle, 'console.log("not okesu");\n');
    const r = await runSea(['--version']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('not okesu');
    expect(readFileSync(bundle, 'utf8')).not.toContain('not okesu');
  });

  it('serves a CP, registers a daimon that heartbeats, lists it online, and shows it in the console', async () => {
    const cp = spawnSea(['cp', 'serve', '--state', join(dir, 'cp'), '--listen', '127.0.0.1:0', '--heartbeat-interval', '1s', '--log-level', 'warn']);
    await waitFor('the CP to listen', () => {
      if (cp.child.exitCode !== null) throw new Error(`cp exited: ${cp.stderr()}`);
      return /control plane on https:\/\//.test(cp.stderr());
    }, 20_000);
    const url = (parseYaml(readFileSync(join(dir, 'cp', 'admin.yaml'), 'utf8')) as { cp: string }).cp;

    const token = await runSea(['token', 'create', '--join']);
    expect(token.code, token.stderr).toBe(0);
    const daimon = spawnSea(['daemon', '--cp', url, '--token', token.stdout.trim(), '--state', join(dir, 'daimon'), '--hostname', HOST, '--log-level', 'warn']);
    const online = await waitFor(`${HOST} online`, async () => {
      if (daimon.child.exitCode !== null) throw new Error(`daimon exited: ${daimon.stderr()}`);
      return (await hosts()).find((h) => h.hostname === HOST && h.state === 'online' && h.connected);
    }, 20_000, 200);
    // Heartbeats keep coming (1 s interval), not just the registration.
    await waitFor('a later heartbeat', async () => ((await hosts()).find((h) => h.hostname === HOST)?.heartbeat_seq ?? -1) > (online.heartbeat_seq ?? -1), 10_000, 200);
    expect(daimon.stderr()).not.toMatch(/loading the agents failed|error/i);

    if (!(await hasTmux())) throw new Error('this test drives the console in tmux: install it (apt-get install -y tmux)');
    // CI=true would make Ink draw only its last frame.
    tty = await startTmux(`cd ${dir} && env -u CI OKESU_SEA_DIR=${env['OKESU_SEA_DIR'] as string} OKESU_CONFIG=${env['OKESU_CONFIG'] as string} ./okesu console --log ${join(dir, 'console.log')}; echo "console exited $?"; exec sleep 3600`);
    await tty.waitForScreen(`${HOST} online in the console`, (s) => /okesu console .*● connected/.test(s) && new RegExp(`●\\s+online\\s+${HOST}\\s+tunnel`).test(s));
    await tty.key('q');
    expect(await tty.waitForScreen('the console to exit', (s) => s.includes('console exited'))).toContain('console exited 0');
  });
});
