import type { Logger } from 'pino';
import type { Store } from './store/store.js';

/** One readiness check's outcome. */
export interface ReadyCheck {
  ok: boolean;
  /** Why it failed (an `OKS_ERR_*` code, or a short sentence); absent when ok. */
  error?: string;
}

/** The answer of `GET /v1/ready`: 200 when every check passed, else 503. */
export interface ReadyAnswer {
  ready: boolean;
  /** `store` always; `bus` on a cluster replica. */
  checks: Record<string, ReadyCheck>;
}

/** `/v1/ready`'s checks. */
export interface Readiness {
  check(): ReadyAnswer;
}

/** How long an answer is reused: load balancers and orchestrators poll, and the store check is a real write. */
const REUSE_MS = 1000;

/**
 * Readiness for load balancers and orchestrators (`GET /v1/ready`): the store takes a write (a one-row transaction
 * in `meta`, so a full disk, an I/O error, a replaced database file or a lost PostgreSQL connection all show), and on
 * a cluster replica its bus is connected. The endpoint is public, so an answer is reused for a second: a flood of
 * probes costs at most one write a second.
 */
export function createReadiness(deps: { store: Store; now: () => number; log: Logger; bus?: { connected(): boolean } }): Readiness {
  let last: { at: number; answer: ReadyAnswer } | undefined;

  const storeCheck = (): ReadyCheck => {
    const { store } = deps;
    try {
      store.health.assertWritable();
      store.transaction(() => store.meta.set('ready_probe', String(deps.now())));
      store.health.succeeded('ready probe');
      return { ok: true };
    } catch (err) {
      // The code only: the endpoint is public, and a message may name the database's path (the log has the rest).
      const mapped = store.health.failed(err, 'ready probe');
      if (!mapped) deps.log.error({ err }, 'readiness store check failed');
      return { ok: false, error: mapped?.code ?? 'OKS_ERR_INTERNAL' };
    }
  };

  return {
    check() {
      const at = performance.now();
      if (last && at - last.at < REUSE_MS) return last.answer;
      const checks: Record<string, ReadyCheck> = { store: storeCheck() };
      if (deps.bus) checks['bus'] = deps.bus.connected() ? { ok: true } : { ok: false, error: 'the cluster bus (NATS) is disconnected' };
      const answer = { ready: Object.values(checks).every((c) => c.ok), checks };
      last = { at, answer };
      return answer;
    },
  };
}
