import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { CpMetrics } from '../metrics/cp-metrics.js';
import type { Readiness } from '../readiness.js';

/** The plain-HTTP scrape listener (`cp serve --metrics-listen`). */
export interface MetricsListener {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves `/metrics`, `/v1/health` and `/v1/ready` over plain HTTP with no authentication, for a Prometheus that
 * cannot hold an operator token: bind it to loopback or a scrape network only (docs/security.md). Nothing else is
 * served here; every other path is 404 and every method but GET and HEAD 405.
 */
export async function listenMetrics(deps: { host: string; port: number; metrics: CpMetrics; readiness: Readiness; version: string; log: Logger }): Promise<MetricsListener> {
  const json = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://metrics.invalid').pathname;
    if (path !== '/metrics' && path !== '/v1/health' && path !== '/v1/ready') return json(res, 404, { error: { code: 'OKS_ERR_NOT_FOUND', message: `no endpoint ${path} on the metrics listener` } });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return json(res, 405, { error: { code: 'OKS_ERR_BAD_REQUEST', message: `${req.method} not allowed on ${path}: GET or HEAD` } });
    }
    if (path === '/v1/health') return json(res, 200, { ok: true, version: deps.version });
    if (path === '/v1/ready') {
      const answer = deps.readiness.check();
      return json(res, answer.ready ? 200 : 503, answer);
    }
    const { contentType, text } = await deps.metrics.render();
    res.writeHead(200, { 'content-type': contentType }).end(text);
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      deps.log.error({ err }, 'metrics request failed');
      if (!res.headersSent) json(res, 500, { error: { code: 'OKS_ERR_INTERNAL', message: 'internal error' } });
      else res.destroy();
    });
  });
  // A scraper's requests are small and quick: a slow or idle client is not kept.
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(deps.port, deps.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  deps.log.info({ host: deps.host, port }, 'metrics listening (plain HTTP, no authentication)');
  return {
    host: deps.host,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
