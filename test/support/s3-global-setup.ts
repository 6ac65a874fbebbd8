import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import type { S3TestServer } from './s3-provided.js';

const SCRIPT = resolve(import.meta.dirname, '../../scripts/s3-server.sh');
const INSTALL = 'apt-get install -y radosgw ceph-mon ceph-osd   (or: bash scripts/install-test-deps.sh)';

/**
 * Vitest globalSetup: one radosgw (scripts/s3-server.sh: mon + memstore osd + rgw, ~13 s) for the whole run, on free
 * ports in a fresh temp dir, provided to tests as `s3` (read it with `s3Config()` from test/support/s3.ts). Teardown
 * stops only that server; if the run is killed hard, the script's watchdog stops it when this process is gone.
 * - Without radosgw installed the run fails here, with the install command: S3 tests never skip silently.
 * - OKESU_TEST_S3_ENDPOINT + OKESU_TEST_S3_ACCESS_KEY + OKESU_TEST_S3_SECRET_KEY (+ OKESU_TEST_S3_DIR for restarts)
 *   reuse a server started by hand with the script, for quick iterations.
 * - OKESU_TEST_S3=off starts nothing (for running unrelated tests quickly); tests that need S3 then fail saying so.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const env = process.env;
  if (env.OKESU_TEST_S3 === 'off') {
    project.provide('s3', null);
    return undefined;
  }
  if (env.OKESU_TEST_S3_ENDPOINT && env.OKESU_TEST_S3_ACCESS_KEY && env.OKESU_TEST_S3_SECRET_KEY) {
    const region = env.AWS_REGION ?? 'us-east-1';
    project.provide('s3', { endpoint: env.OKESU_TEST_S3_ENDPOINT, region, accessKeyId: env.OKESU_TEST_S3_ACCESS_KEY, secretAccessKey: env.OKESU_TEST_S3_SECRET_KEY, dir: env.OKESU_TEST_S3_DIR ?? '' });
    return undefined;
  }
  const missing = ['radosgw', 'radosgw-admin', 'ceph-mon', 'ceph-osd', 'monmaptool'].filter((bin) => spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0);
  if (missing.length > 0) {
    throw new Error(`the S3 tests need radosgw (Ceph) and ${missing.join(', ')} is not installed; install it with:\n  ${INSTALL}`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'okesu-s3-'));
  const [rgwPort, monPort] = await freePorts(2);
  const started = Date.now();
  let out: string;
  try {
    ({ stdout: out } = await promisify(execFile)('bash', [SCRIPT, 'start', dir], {
      env: { ...env, RGW_PORT: String(rgwPort), MON_PORT: String(monPort), OWNER_PID: String(process.pid) },
      timeout: 240_000,
    }));
  } catch (err) {
    await stop(dir);
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`could not start radosgw for the S3 tests (scripts/s3-server.sh start ${dir}):\n${stderr.slice(-4000)}`);
  }
  const values = Object.fromEntries(out.split('\n').map((line) => line.split(/=(.*)/s, 2) as [string, string]));
  const server: S3TestServer = { endpoint: values.endpoint ?? '', region: 'us-east-1', accessKeyId: values.access_key ?? '', secretAccessKey: values.secret_key ?? '', dir };
  if (!server.endpoint || !server.accessKeyId || !server.secretAccessKey) {
    await stop(dir);
    throw new Error(`scripts/s3-server.sh start printed no endpoint and keys:\n${out}`);
  }
  if (env.OKESU_TEST_S3_VERBOSE) console.log(`radosgw up at ${server.endpoint} in ${Date.now() - started} ms (${dir})`);
  project.provide('s3', server);
  return () => stop(dir);
}

async function stop(dir: string): Promise<void> {
  await promisify(execFile)('bash', [SCRIPT, 'stop', dir], { timeout: 60_000 }).catch((err: unknown) => {
    console.error(`scripts/s3-server.sh stop ${dir} failed:`, (err as { stderr?: string }).stderr ?? err);
  });
  await rm(dir, { recursive: true, force: true });
}

/** Ports the OS says are free now (each bound to port 0 then released; all held at once so they differ). */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((ok, fail) => {
      const s = createServer();
      s.once('error', fail);
      s.listen(0, '127.0.0.1', () => ok(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((ok) => s.close(ok))));
  return ports;
}
