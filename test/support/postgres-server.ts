import { execFile, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const INSTALL = 'apt-get install -y postgresql   (or: bash scripts/install-test-deps.sh)';

/** A PostgreSQL server this process started; `stop()` stops it at once and removes its files. */
export interface StartedPostgresServer {
  /** The superuser's URL (`postgres`, trust authentication) of the `postgres` database. */
  url: string;
  port: number;
  /** Holds the data directory (`data/`), the log (`log`) and the Unix socket. */
  dir: string;
  stop(): Promise<void>;
}

/** The bin directory of the newest installed PostgreSQL (Debian layout: /usr/lib/postgresql/<major>/bin). */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : [];
  const newest = majors.sort((a, b) => Number(b) - Number(a)).map((v) => join(root, v, 'bin'))[0];
  if (!newest) throw new Error(`the PostgreSQL tests need a PostgreSQL server and none is installed; install it with:\n  ${INSTALL}`);
  return newest;
}

/**
 * Starts a throwaway PostgreSQL server (~1 s: initdb without fsync, fsync off) on a free loopback port in a fresh temp
 * dir. PostgreSQL refuses to run as root, so as root it runs as `postgres` (the temp dir is given to that user). If
 * this process dies without stopping it, a watchdog shell stops it.
 */
export async function startPostgresServer(): Promise<StartedPostgresServer> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'okesu-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const as = (cmd: string, args: string[]): [string, string[]] => (asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]);
  const pgCtl = (...args: string[]): Promise<unknown> => run(...as(join(bin, 'pg_ctl'), ['-D', data, ...args]), { timeout: 60_000 });
  const stop = async (): Promise<void> => {
    await pgCtl('-m', 'immediate', 'stop').catch(() => undefined); // already stopped (a test stopped it) is fine
    rmSync(dir, { recursive: true, force: true });
  };
  const port = await freePort();
  try {
    await run(...as(join(bin, 'initdb'), ['-D', data, '--auth=trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync']), { timeout: 60_000 });
    const settings = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
    await pgCtl('-o', settings, '-l', join(dir, 'log'), '-w', 'start');
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? String(err);
    await stop();
    throw new Error(`could not start PostgreSQL from ${bin} in ${dir}:\n${stderr.slice(-4000)}`);
  }
  // The watchdog: when this process is gone (a run killed hard), stop the server and remove its files.
  const watchdog = `while kill -0 ${process.pid} 2>/dev/null && [ -d '${data}' ]; do sleep 2; done; ${as(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']).flat().join(' ')} >/dev/null 2>&1; rm -rf '${dir}'`;
  spawn('sh', ['-c', watchdog], { detached: true, stdio: 'ignore' }).unref();
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, port, dir, stop };
}

/** A port the OS says is free now. */
async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}
