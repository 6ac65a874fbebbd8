import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = resolve(import.meta.dirname, '../../scripts/s3-server.sh');

/** A one-node radosgw this process started (scripts/s3-server.sh), with its endpoint and keys. */
export interface S3Server {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Environment for a process that talks to it through the AWS SDK's default credential chain. */
  env: Record<string, string>;
  /** Seconds `start` took. */
  startSeconds: number;
  /** Process ids of radosgw, ceph-osd and ceph-mon (to sample their CPU). */
  pids(): Promise<{ rgw?: number; osd?: number; mon?: number }>;
  /** Stops the daemons this server started and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts a private radosgw on loopback in a fresh directory, on ports picked at random (another helper's or the tests'
 * server may hold the defaults), retrying on a busy port. Only what it started is ever stopped.
 */
export async function startS3Server(log: (msg: string) => void = () => undefined): Promise<S3Server> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = join(mkdtempSync(join(tmpdir(), 'okesu-bench-ceph-')), 'd');
    const rgwPort = 20_000 + Math.floor(Math.random() * 20_000);
    const monPort = rgwPort + 1;
    const t0 = performance.now();
    try {
      const { stdout } = await run('bash', [SCRIPT, 'start', dir], { env: { ...process.env, RGW_PORT: String(rgwPort), MON_PORT: String(monPort) }, timeout: 180_000 });
      const kv = Object.fromEntries(stdout.trim().split('\n').map((l) => l.split('=', 2) as [string, string]));
      const endpoint = kv['endpoint'];
      const accessKeyId = kv['access_key'];
      const secretAccessKey = kv['secret_key'];
      if (!endpoint || !accessKeyId || !secretAccessKey) throw new Error(`s3-server.sh printed no endpoint and keys: ${stdout}`);
      log(`radosgw on ${endpoint} in ${Math.round(performance.now() - t0)} ms (${dir})`);
      let stopped = false;
      // A runner that exits early (a throw past the suite's finally, process.exit) still stops what it started.
      const onExit = (): void => {
        if (stopped) return;
        try {
          execFileSync('bash', [SCRIPT, 'stop', dir], { stdio: 'ignore', timeout: 30_000 });
        } catch {
          // Nothing more to do on the way out.
        }
      };
      process.once('exit', onExit);
      const pidOf = async (name: string): Promise<number | undefined> => {
        try {
          const pid = Number((await readFile(join(dir, 'run', `${name}.pid`), 'utf8')).trim());
          return Number.isInteger(pid) && pid > 0 ? pid : undefined;
        } catch {
          return undefined;
        }
      };
      return {
        endpoint, accessKeyId, secretAccessKey, startSeconds: (performance.now() - t0) / 1000,
        env: {
          AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_REGION: 'us-east-1',
          // The SDK warns under Node 20 at load; the bench's children would print it once each.
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
        pids: async () => ({ rgw: await pidOf('client.rgw.a'), osd: await pidOf('osd.0'), mon: await pidOf('mon.a') }),
        async stop() {
          if (stopped) return;
          stopped = true;
          process.off('exit', onExit);
          await run('bash', [SCRIPT, 'stop', dir], { timeout: 60_000 });
          rmSync(resolve(dir, '..'), { recursive: true, force: true });
        },
      };
    } catch (err) {
      lastError = err;
      // A failed start kills what it started; remove the directory and try other ports.
      await run('bash', [SCRIPT, 'stop', dir], { timeout: 60_000 }).catch(() => undefined);
      rmSync(resolve(dir, '..'), { recursive: true, force: true });
      const msg = err instanceof Error ? err.message : String(err);
      log(`radosgw start failed (attempt ${attempt + 1}): ${msg.split('\n').slice(-3).join(' ')}`);
      if (!/already in use/.test(msg)) break;
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

/** Creates bucket `name` on `server` (the bench's own; radosgw starts with none). */
export async function createBucket(server: S3Server, name: string): Promise<void> {
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  const { CreateBucketCommand, S3Client } = await import('@aws-sdk/client-s3');
  const client = new S3Client({
    region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  });
  try {
    await client.send(new CreateBucketCommand({ Bucket: name }));
  } finally {
    client.destroy();
  }
}

