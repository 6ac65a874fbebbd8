import type { Effort } from '../../../src/specs/agent-spec.js';
import type { Logger } from '../../provider.js';
import type { SecretReader } from '../../secrets/secret-store.js';

/** Options of the claude and codex providers. */
export interface ModelProviderOptions {
  /** The keys and base URLs, taken once at start (default: none, so every run says api_unavailable). Never process.env. */
  secrets?: SecretReader;
  /** SDK retries of one request on connection errors, 408/409/429 and 5xx, honouring retry-after (default 3). */
  maxRetries?: number;
  /** Timeout of one HTTP request (default 120 s); the run's own timeout aborts `ctx.signal`. */
  requestTimeoutMs?: number;
}

/** Default SDK retries per request. */
export const DEFAULT_MAX_RETRIES = 3;
/** Default timeout of one model request. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;

/** The first user message when a run has no task of its own. */
export const DEFAULT_TASK = 'Run your checks on this host now and report findings.';

/**
 * Output-token budget of one model call by effort, for both providers (Anthropic `max_tokens`, OpenAI
 * `max_completion_tokens`, which for reasoning models includes the reasoning): low 2048, medium 8192, high 16384.
 */
export const MAX_TOKENS_BY_EFFORT: Readonly<Record<Effort, number>> = { low: 2048, medium: 8192, high: 16384 };

/** What an SDK's `logger` option needs. */
export interface SdkLogger {
  error(message: string, ...rest: unknown[]): void;
  warn(message: string, ...rest: unknown[]): void;
  info(message: string, ...rest: unknown[]): void;
  debug(message: string, ...rest: unknown[]): void;
}

/** The SDK log level to set with `sdkLogger`: one info line per request (method, URL, status, retries), no bodies. */
export const SDK_LOG_LEVEL = 'info';

/**
 * Routes an SDK's log lines to the run's logger instead of the console. Only the message is kept: the extra
 * arguments can carry request details (headers, bodies). Debug lines are dropped.
 */
export function sdkLogger(log: Logger, sdk: string): SdkLogger {
  return {
    error: (message) => log.error({ sdk }, message),
    warn: (message) => log.warn({ sdk }, message),
    info: (message) => log.info({ sdk }, message),
    debug: () => {},
  };
}
