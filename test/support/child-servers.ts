import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

/** A free TCP port on 127.0.0.1 (bound and released: another process could take it first, rarely). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/**
 * Resolves once 127.0.0.1:`port` accepts a connection (and, with `greeting`, the server's first bytes start with it);
 * rejects as soon as `child` exits, or after `timeoutMs`, with `describe()` (the server's log) in the message.
 */
export async function waitForPort(
  port: number,
  child: ChildProcess,
  describe: () => string,
  opts: { greeting?: string; timeoutMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited (${child.exitCode ?? child.signalCode}) before listening on ${port}: ${describe()}`);
    if (await answers(port, opts.greeting)) return;
    if (Date.now() > deadline) throw new Error(`not listening on 127.0.0.1:${port} within ${opts.timeoutMs ?? 10_000} ms: ${describe()}`);
    // A short pause between connection attempts (polling the port, not waiting a fixed time for the server).
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function answers(port: number, greeting: string | undefined): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const s: Socket = connect(port, '127.0.0.1');
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('error', () => done(false));
    if (greeting === undefined) s.once('connect', () => done(true));
    else s.once('data', (d: Buffer) => done(d.toString('latin1').startsWith(greeting)));
  });
}

/** Resolves when the child has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Stops `child` when this process dies without stopping it (a killed test run): a `sh` reading a pipe from us gets
 * EOF when we are gone and kills the child. The watchdog holds no reference on our event loop.
 */
export function killWithParent(child: ChildProcess): void {
  if (child.pid === undefined) return;
  const dog = spawn('sh', ['-c', 'cat >/dev/null; kill "$0" 2>/dev/null', String(child.pid)], { stdio: ['pipe', 'ignore', 'ignore'] });
  dog.unref();
  (dog.stdin as unknown as Socket).unref();
  dog.stdin?.on('error', () => {});
  child.once('exit', () => dog.stdin?.end());
}

/** A server started by a test: the child, and the tail of what it printed (for failure messages). */
export interface SpawnedServer {
  child: ChildProcess;
  output(): string;
}

/**
 * Starts `file` as a test's server: stdout and stderr kept (their last 20,000 characters), stopped with this process
 * (`killWithParent`); resolves once it has started, or rejects naming the missing package.
 */
export async function spawnServer(file: string, args: readonly string[]): Promise<SpawnedServer> {
  let output = '';
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (d: Buffer): void => {
    output = (output + d.toString('utf8')).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  killWithParent(child);
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err) => reject(new Error(`cannot run ${file} (scripts/install-test-deps.sh installs it): ${err.message}`)));
  });
  return { child, output: () => output };
}
