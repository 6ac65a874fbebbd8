import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { OkesuError } from '../../src/errors.js';
import type { DaimonCounters } from './daimon-counters.js';
import { createDaimonRegistry } from './daimon-registry.js';
import { formatListen } from './listen-address.js';
import type { MetricsListen } from './listen-address.js';

/** The daimon's plain-HTTP metrics endpoint, listening. */
export interface MetricsServer {
  /** The bound address (the port chosen when 0 was asked). */
  address: MetricsListen;
  /** Closes the listener and every open connection. */
  stop(): Promise<void>;
}

/**
 * Serves `GET /metrics` (Prometheus text format) and `GET /health` (200 while the process runs) on `listen`, without
 * authentication: the address is loopback unless the operator allowed another. Loaded only with `--metrics-listen`,
 * so a daimon without it never evaluates prom-client. Rejects (OKS_ERR_CONFIG) when the address cannot be bound.
 */
export async function startMetricsServer(listen: MetricsListen, deps: { counters: DaimonCounters; version: string; log: Logger }): Promise<MetricsServer> {
  const registry = createDaimonRegistry(deps.counters, deps.version);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    if (path === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify({ status: 'ok', version: deps.version })}\n`);
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: /metrics and /health are served here\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(req.method === 'HEAD' ? undefined : text),
      (err: unknown) => {
        deps.log.error({ err }, 'metrics: collecting failed');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('collecting metrics failed\n');
      },
    );
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(new OkesuError('OKS_ERR_CONFIG', `--metrics-listen ${formatListen(listen)}: ${err.code ?? err.message}`));
    };
    server.once('error', onError);
    server.listen({ host: listen.host, port: listen.port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => deps.log.error({ err }, 'metrics listener failed'));
  const bound = server.address() as AddressInfo;
  const address = { host: bound.address, port: bound.port };
  deps.log.info({ address: formatListen(address) }, 'metrics listening: /metrics and /health over plain HTTP');
  return {
    address,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
