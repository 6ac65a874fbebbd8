import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { S3TestServer } from './s3-provided.js';

const SCRIPT = resolve(import.meta.dirname, '../../scripts/s3-server.sh');
const INSTALL = 'apt-get install -y radosgw ceph-mon ceph-osd   (or: bash scripts/install-test-deps.sh)';
const run = promisify(execFile);

/** A radosgw this process started; `stop()` stops it and removes its state. */
export interface StartedS3Server extends S3TestServer {
  stop(): Promise<void>;
}

/**
 * Starts a one-node radosgw (scripts/s3-server.sh, ~3 s) on free ports in a fresh temp dir. Throws with the install
 * command when Ceph is not installed. If this process dies without stopping it, the script's watchdog does.
 */
export async function startS3Server(): Promise<StartedS3Server> {
  const missing = ['radosgw', 'radosgw-admin', 'ceph-mon', 'ceph-osd', 'monmaptool', 'curl'].filter((bin) => spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0);
  if (missing.length > 0) {
    throw new Error(`the S3 tests need radosgw (Ceph) and ${missing.join(', ')} is not installed; install it with:\n  ${INSTALL}`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'okesu-s3-'));
  const stop = async (): Promise<void> => {
    await run('bash', [SCRIPT, 'stop', dir], { timeout: 60_000 }).catch((err: unknown) => {
      console.error(`scripts/s3-server.sh stop ${dir} failed:`, (err as { stderr?: string }).stderr ?? err);
    });
    await rm(dir, { recursive: true, force: true });
  };
  const [rgwPort, monPort] = await freePorts(2);
  let out: string;
  try {
    ({ stdout: out } = await run('bash', [SCRIPT, 'start', dir], {
      env: { ...process.env, RGW_PORT: String(rgwPort), MON_PORT: String(monPort), OWNER_PID: String(process.pid) },
      timeout: 240_000,
    }));
  } catch (err) {
    await stop();
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`could not start radosgw for the S3 tests (scripts/s3-server.sh start ${dir}):\n${stderr.slice(-4000)}`);
  }
  const values = new Map(out.split('\n').map((line) => line.split(/=(.*)/s, 2) as [string, string]));
  const endpoint = values.get('endpoint');
  const accessKeyId = values.get('access_key');
  const secretAccessKey = values.get('secret_key');
  if (!endpoint || !accessKeyId || !secretAccessKey) {
    await stop();
    throw new Error(`scripts/s3-server.sh start printed no endpoint and keys:\n${out}`);
  }
  return { endpoint, region: 'us-east-1', accessKeyId, secretAccessKey, dir, stop };
}

/** Kills radosgw alone and starts it again on the same port (mon and osd keep the objects); resolves once it answers. */
export async function restartS3Gateway(dir: string): Promise<void> {
  await run('bash', [SCRIPT, 'restart-rgw', dir], { timeout: 120_000 });
}

/** Ports the OS says are free now (each bound to port 0 then released; all held at once so they differ). */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((ok, fail) => {
          const s = createServer();
          s.once('error', fail);
          s.listen(0, '127.0.0.1', () => ok(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((ok) => s.close(ok))));
  return ports;
}
