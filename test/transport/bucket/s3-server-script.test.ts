import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';

const SCRIPT = resolve(import.meta.dirname, '../../../scripts/s3-server.sh');

/** Runs the script; resolves with its exit code and output (never rejects). */
function script(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((ok) => {
    execFile('/bin/bash', [SCRIPT, ...args], { env, timeout: 30_000 }, (err, stdout, stderr) => {
      ok({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'okesu-s3-script-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('start without Ceph installed fails saying how to install it', async () => {
  const r = await script(['start', join(dir, 'ceph')], { PATH: '/nonexistent' });
  expect(r.code).not.toBe(0);
  expect(r.stdout).toBe('');
  expect(r.stderr).toContain('is not installed; install with: apt-get install -y radosgw ceph-mon ceph-osd');
});

it('start refuses a directory that is not empty, and stop refuses to remove one it did not create', async () => {
  await writeFile(join(dir, 'precious'), 'keep me');
  const start = await script(['start', dir]);
  expect(start.code).not.toBe(0);
  expect(start.stderr).toContain('exists and is not empty');
  const stop = await script(['stop', dir]);
  expect(stop.code).not.toBe(0);
  expect(stop.stderr).toContain('not removing it');
  expect(await readdir(dir)).toEqual(['precious']);
});

it('stop of a directory that does not exist succeeds; an unknown command prints the usage', async () => {
  expect((await script(['stop', join(dir, 'never-started')])).code).toBe(0);
  const r = await script(['frobnicate']);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain('usage:');
});

it('stop never kills a process that is not a Ceph daemon, even when a pid file names it', async () => {
  const bystander = spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    await mkdir(join(dir, 'ceph', 'run'), { recursive: true });
    await writeFile(join(dir, 'ceph', 'ceph.conf'), '');
    await writeFile(join(dir, 'ceph', 'run', 'osd.0.pid'), String(bystander.pid));
    expect((await script(['stop', join(dir, 'ceph')])).code).toBe(0);
    expect(await readdir(dir)).toEqual([]);
    expect(bystander.exitCode).toBeNull();
    expect(() => process.kill(bystander.pid as number, 0)).not.toThrow();
  } finally {
    bystander.kill();
  }
});
