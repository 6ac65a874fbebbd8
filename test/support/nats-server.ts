import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exited, freePort, spawnServer, waitForPort } from './child-servers.js';

/** Debian's nats-server (scripts/install-test-deps.sh installs it). */
export const NATS_SERVER = '/usr/sbin/nats-server';

/** A nats-server child process on 127.0.0.1 with JetStream, owned by the test (or the run's globalSetup). */
export interface TestNatsServer {
  readonly url: string;
  readonly port: number;
  /** JetStream's store directory (removed by `stop()`). */
  readonly dir: string;
  /** The server's output so far (for failure messages). */
  log(): string;
  /** Stops the server and starts it again on the same port; resolves once it accepts connections. */
  restart(): Promise<void>;
  /** Stops the server without removing its directory (for "server down" tests; `start()` brings it back). */
  kill(): Promise<void>;
  /** Starts a stopped server again on the same port. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts `nats-server -js -a 127.0.0.1 -p PORT -sd DIR` on a free port; resolves once it greets with INFO. */
export async function startNatsServer(opts: { port?: number } = {}): Promise<TestNatsServer> {
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'okesu-nats-'));
  // The output of the server's latest start.
  let output = (): string => '';
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    if (child && child.exitCode === null && child.signalCode === null) return;
    const started = await spawnServer(NATS_SERVER, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir]);
    const c = started.child;
    child = c;
    output = started.output;
    await waitForPort(port, c, output, { greeting: 'INFO ' });
  }

  async function kill(): Promise<void> {
    const c = child;
    if (!c) return;
    c.kill('SIGTERM');
    await exited(c);
  }

  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    dir,
    log: () => output(),
    async restart() {
      await kill();
      await start();
    },
    kill,
    start,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
