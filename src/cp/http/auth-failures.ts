import type { Logger } from 'pino';
import { OkesuError, type ErrorCode } from '../../errors.js';

/** Where an authentication failed: the operator API or stream, `/v1/register`, or the daimon tunnel. */
export type AuthKind = 'operator' | 'register' | 'tunnel';

/** The per-address budget of failed authentications. */
export interface AuthLimitOptions {
  /** Failures an address may make in a row before it is refused (0 turns limiting off; counting and logging stay). */
  burst: number;
  /** Failures per second the budget refills at; an address failing faster than this is refused while its budget is empty. */
  refillPerS: number;
  /** Addresses tracked at most; past it the least recently failing one is forgotten. */
  maxAddresses: number;
  /**
   * Addresses that carry many clients' connections (a TCP load balancer in front of replicas, `cp serve
   * --trusted-proxy`): their failures are logged and counted but never limited, or one bad client would lock out every
   * client behind them. Limit per client at the balancer instead.
   */
  trusted?: readonly string[];
}

/**
 * Defaults: 20 failures in a row, then 2 per second. A real client that mistyped a token fails a handful of times; a
 * daimon retrying a bad credential backs off to far less than 2/s. 10,000 addresses cost well under 2 MiB.
 */
export const DEFAULT_AUTH_LIMIT: AuthLimitOptions = { burst: 20, refillPerS: 2, maxAddresses: 10_000 };

/** OKS_ERR_RATE_LIMITED with the seconds after which the address may try again (the `Retry-After` header). */
export class RateLimitedError extends OkesuError {
  constructor(readonly retryAfterS: number) {
    super('OKS_ERR_RATE_LIMITED', `retry after ${retryAfterS} s`);
  }
}

interface Bucket {
  tokens: number;
  at: number;
  /** The refusal of this empty spell was logged already. */
  logged: boolean;
}

/** Counters of failed authentications, for `/metrics`. */
export interface AuthFailureSnapshot {
  /** Failures by kind, then by error code. */
  failures: Record<AuthKind, Partial<Record<ErrorCode, number>>>;
  /** Attempts refused with 429 by kind. */
  limited: Record<AuthKind, number>;
  /** Connections closed at accept, before TLS, from addresses that went on regardless of 429s. */
  dropped: number;
  /** Addresses currently holding a budget. */
  addresses: number;
}

/** The CP's failed-authentication log, counters and per-address limiter. */
export interface AuthFailures {
  /** Throws RateLimitedError while `remote`'s budget is empty; call before looking at the credential. */
  gate(kind: AuthKind, remote: string | undefined): void;
  /** False when `remote` ran its budget down to the floor: close its new connection before any TLS work. */
  admit(remote: string | undefined): boolean;
  /**
   * Records a failed authentication: a log line, a counter, one unit of the address's budget. `detail` is logged
   * too: pass only the CP's own words (catalogue messages), never the presented credential or raw request text.
   */
  fail(kind: AuthKind, remote: string | undefined, code: ErrorCode, detail?: string): void;
  /**
   * `authenticate()` behind `remote`'s budget: refused (429) while it is empty, and a refusal it throws (a catalogue
   * error, whose message is the CP's own) recorded with `fail`. Other errors pass through unrecorded.
   */
  guard<T>(kind: AuthKind, remote: string | undefined, authenticate: () => T): T;
  /** The counters so far (a copy). */
  snapshot(): AuthFailureSnapshot;
}

/**
 * The source address a budget belongs to: IPv4-mapped IPv6 as plain IPv4, and IPv6 by its /64, since one host
 * commonly holds a whole /64 and could otherwise rotate addresses to get a fresh budget each time.
 */
export function addressKey(remote: string | undefined): string {
  if (!remote) return 'unknown';
  const bare = remote.replace(/%.*$/, '').toLowerCase();
  if (bare.startsWith('::ffff:') && bare.includes('.')) return bare.slice(7);
  if (!bare.includes(':')) return bare;
  const [head = '', tail] = bare.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return `${groups.slice(0, 4).map((g) => (parseInt(g, 16) || 0).toString(16)).join(':')}::/64`;
}

/**
 * Logs, counts and limits failed authentications per source address (a token bucket each): an address that keeps
 * failing is answered 429 + `Retry-After` before any credential is looked at, so a flood of bad attempts cannot
 * brute-force or drown the CP, while other addresses go on unhindered. Successes never touch a bucket.
 * A refused attempt costs budget too (down to -burst): an address that ignores `Retry-After` gets no further, and once
 * its debt is near that floor its new connections are closed at accept, before the TLS handshake that is most of what
 * a refused attempt costs the CP.
 */
export function createAuthFailures(options: Partial<AuthLimitOptions>, deps: { log: Logger; now: () => number }): AuthFailures {
  const o = { ...DEFAULT_AUTH_LIMIT, ...options };
  const buckets = new Map<string, Bucket>();
  const trusted = new Set((o.trusted ?? []).map((a) => addressKey(a)));
  const limits = (remote: string | undefined): boolean => o.burst > 0 && !trusted.has(addressKey(remote));
  const failures: AuthFailureSnapshot['failures'] = { operator: {}, register: {}, tunnel: {} };
  const limited: AuthFailureSnapshot['limited'] = { operator: 0, register: 0, tunnel: 0 };
  let dropped = 0;

  const refill = (b: Bucket, at: number): void => {
    b.tokens = Math.min(o.burst, b.tokens + ((at - b.at) / 1000) * o.refillPerS);
    b.at = at;
  };
  // Buckets are kept in least-recently-failed order: the oldest ones are full again (forgettable) or the first to go.
  const evict = (at: number): void => {
    for (const [key, b] of buckets) {
      const full = b.tokens + ((at - b.at) / 1000) * o.refillPerS >= o.burst;
      if (buckets.size < o.maxAddresses && !full) return;
      buckets.delete(key);
    }
  };

  const service: AuthFailures = {
    gate(kind, remote) {
      if (!limits(remote)) return;
      const key = addressKey(remote);
      const b = buckets.get(key);
      if (!b) return;
      refill(b, deps.now());
      if (b.tokens >= 1) {
        b.logged = false; // the next empty spell is news again
        return;
      }
      b.tokens = Math.max(-o.burst, b.tokens - 1);
      limited[kind]++;
      const retryAfterS = Math.min(3600, Math.max(1, Math.ceil((1 - b.tokens) / o.refillPerS)));
      if (!b.logged) {
        b.logged = true;
        deps.log.warn({ kind, remote: key, retry_after_s: retryAfterS }, 'too many failed authentications; refusing this address for now');
      }
      throw new RateLimitedError(retryAfterS);
    },
    admit(remote) {
      if (!limits(remote)) return true;
      const b = buckets.get(addressKey(remote));
      if (!b) return true;
      refill(b, deps.now());
      // At least one 429 (saying when to come back) comes before any connection is closed unanswered.
      if (b.tokens > Math.min(-1, 1 - o.burst)) return true;
      dropped++;
      return false;
    },
    fail(kind, remote, code, detail) {
      const key = addressKey(remote);
      failures[kind][code] = (failures[kind][code] ?? 0) + 1;
      deps.log.warn({ kind, remote: remote ?? 'unknown', code, ...(detail !== undefined && { detail }) }, 'authentication failed');
      if (!limits(remote)) return;
      const at = deps.now();
      let b = buckets.get(key);
      if (b) {
        refill(b, at);
        buckets.delete(key);
      } else {
        b = { tokens: o.burst, at, logged: false };
      }
      b.tokens = Math.max(0, b.tokens - 1);
      evict(at);
      buckets.set(key, b);
    },
    guard(kind, remote, authenticate) {
      service.gate(kind, remote);
      try {
        return authenticate();
      } catch (err) {
        if (err instanceof OkesuError) service.fail(kind, remote, err.code, err.message);
        throw err;
      }
    },
    snapshot() {
      return {
        failures: { operator: { ...failures.operator }, register: { ...failures.register }, tunnel: { ...failures.tunnel } },
        limited: { ...limited },
        dropped,
        addresses: buckets.size,
      };
    },
  };
  return service;
}
