import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** A loopback TCP proxy a test can cut and restore, to take a tunnel down mid-run without touching either end. */
export interface TcpProxy {
  /** The port it listens on (127.0.0.1). */
  readonly port: number;
  /** Connections accepted and piped so far (a reconnect shows up here). */
  readonly accepted: number;
  /** Destroys every live connection (both sides) and refuses new ones until restore(). */
  cut(): void;
  /** Accepts and pipes new connections again. */
  restore(): void;
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 (port 0 picks one; pass the old port to come back on the same one) to `target`. */
export async function startTcpProxy(target: { host: string; port: number }, port = 0): Promise<TcpProxy> {
  const live = new Set<Socket>();
  let open = true;
  let accepted = 0;
  const server: Server = createServer((client) => {
    if (!open) {
      // Refused while cut: the daimon sees a connection reset, as when a firewall drops the path.
      client.destroy();
      return;
    }
    accepted += 1;
    const upstream = createConnection(target);
    for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
      live.add(a);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        live.delete(a);
        b.destroy();
      });
      a.pipe(b);
    }
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => ok());
  });
  const cut = (): void => {
    open = false;
    for (const s of live) s.destroy();
    live.clear();
  };
  return {
    port: (server.address() as { port: number }).port,
    get accepted() {
      return accepted;
    },
    cut,
    restore: () => {
      open = true;
    },
    close: async () => {
      cut();
      await new Promise((ok) => server.close(ok));
    },
  };
}
