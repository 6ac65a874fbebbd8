import https from 'node:https';
import { percentile } from './stats.js';

/** What a prober saw: the latency of each call that succeeded, and the calls that failed. */
export interface ProbeSummary {
  latenciesMs: number[];
  failures: number;
  firstError?: string;
  p50: number;
  p99: number;
  max: number;
}

/**
 * Calls `call` every `everyMs` (one at a time: a slow answer delays the next call instead of piling up) and times
 * each call, until `stop()`, which waits for the call in flight and returns the summary.
 */
export function probe(call: () => Promise<unknown>, everyMs: number): { stop(): Promise<ProbeSummary> } {
  const latenciesMs: number[] = [];
  let failures = 0;
  let firstError: string | undefined;
  let running = true;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      try {
        await call();
        latenciesMs.push(performance.now() - t0);
      } catch (err) {
        failures++;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
      const wait = everyMs - (performance.now() - t0);
      if (running && wait > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  })();
  return {
    async stop() {
      running = false;
      wake?.();
      await loop;
      return {
        latenciesMs, failures, firstError,
        p50: percentile(latenciesMs, 50), p99: percentile(latenciesMs, 99), max: latenciesMs.reduce((a, b) => Math.max(a, b), 0),
      };
    },
  };
}

/**
 * `GET /v1/health`: over one kept-alive TLS connection (re-opened when the CP restarted), as a long-lived client (the
 * console) would, or with `fresh` over a new TCP + TLS connection per call, as each `okesu` CLI command does.
 */
export function healthCall(port: number, ca: string, opts: { fresh?: boolean; timeoutMs?: number } = {}): () => Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const agent = opts.fresh ? false : new https.Agent({ keepAlive: true, maxSockets: 1, ca });
  return () =>
    new Promise((resolve, reject) => {
      const req = https.get({ host: '127.0.0.1', port, path: '/v1/health', agent, ca, timeout: timeoutMs }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
    });
}
