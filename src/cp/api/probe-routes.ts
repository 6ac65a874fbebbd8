import { Readable } from 'node:stream';
import type { Router } from '../http/router.js';
import type { CpMetrics } from '../metrics/cp-metrics.js';
import type { Readiness } from '../readiness.js';

/** `GET /v1/ready` (public: load balancers, orchestrators) and `GET /metrics` (an operator token, role viewer). */
export function addProbeRoutes(router: Router, deps: { readiness: Readiness; metrics: CpMetrics }): void {
  router.add('GET', '/v1/ready', 'public', () => {
    const answer = deps.readiness.check();
    return { status: answer.ready ? 200 : 503, json: answer };
  });
  router.add('GET', '/metrics', 'viewer', async () => {
    const { contentType, text } = await deps.metrics.render();
    // A stream reply keeps Prometheus's own content type (a text reply is sent as plain text/plain).
    return { stream: Readable.from([Buffer.from(text, 'utf8')]), headers: { 'content-type': contentType, 'content-length': String(Buffer.byteLength(text)) } };
  });
}
