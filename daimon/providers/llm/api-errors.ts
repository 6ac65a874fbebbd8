/** What a failed model request means for the run (SPEC §4.1). */
export type ApiFailure =
  /** The run's signal was aborted (cancel or timeout): stop quietly. */
  | { kind: 'aborted' }
  /** The API cannot be reached or refuses us as a service (network, timeout, 401/403, 429/5xx after retries): `api_unavailable`. */
  | { kind: 'unavailable'; status?: number; message: string }
  /** Our request is wrong (400, 404, 422 …, or a reply we cannot read): an `error` event, and the run fails. */
  | { kind: 'request'; status?: number; message: string };

type ErrorClass = abstract new (...args: never[]) => Error;

/** The error classes of one SDK; @anthropic-ai/sdk and openai export the same three. */
export interface SdkErrorClasses {
  APIError: ErrorClass;
  APIUserAbortError: ErrorClass;
  APIConnectionError: ErrorClass;
}

/** Longest error message we pass on; API error bodies can be large. */
const MAX_MESSAGE = 1000;

/**
 * Classifies an error thrown by an SDK request. `secret` (the API key) is cut out of the message, in case a
 * server or proxy echoes it back.
 */
export function classifyApiError(err: unknown, signal: AbortSignal, sdk: SdkErrorClasses, secret: string): ApiFailure {
  if (signal.aborted || err instanceof sdk.APIUserAbortError) return { kind: 'aborted' };
  const clean = (text: string): string => redact(text, secret);
  if (err instanceof sdk.APIConnectionError) return { kind: 'unavailable', message: clean(connectionMessage(err)) };
  if (err instanceof sdk.APIError) {
    const status = (err as Error & { status?: unknown }).status;
    const message = clean(apiErrorMessage(err));
    if (typeof status !== 'number') return { kind: 'unavailable', message };
    // 408/409/429/5xx are what the SDK retries; still failing here means its retries ran out.
    const serviceDown = status === 401 || status === 403 || status === 408 || status === 409 || status === 429 || status >= 500;
    return serviceDown ? { kind: 'unavailable', status, message } : { kind: 'request', status, message };
  }
  return { kind: 'request', message: clean(err instanceof Error ? err.message : String(err)) };
}

/** Replaces every occurrence of `secret` in `text` and caps its length. */
export function redact(text: string, secret: string): string {
  const cut = secret.length >= 4 ? text.split(secret).join('[redacted]') : text;
  return cut.length > MAX_MESSAGE ? `${cut.slice(0, MAX_MESSAGE)}…` : cut;
}

/** `Connection error. (connect ECONNREFUSED 127.0.0.1:9)`: the SDK's message plus the root cause. */
function connectionMessage(err: Error): string {
  let cause: unknown = err.cause;
  let root: string | undefined;
  for (let depth = 0; cause instanceof Error && depth < 5; depth++) {
    root = cause.message;
    cause = cause.cause;
  }
  return root && root !== err.message ? `${err.message} (${root})` : err.message;
}

/** `429 rate_limit_error: slow down`, from the error body both APIs send, or the SDK's own message. */
function apiErrorMessage(err: Error): string {
  const status = (err as Error & { status?: unknown }).status;
  const body = (err as Error & { error?: unknown }).error;
  // Anthropic's SDK keeps the whole body ({type:'error', error:{type, message}}); OpenAI's keeps body.error ({message, type, code}).
  const detail = isRecord(body) && isRecord(body.error) ? body.error : body;
  if (isRecord(detail) && typeof detail.message === 'string') {
    const type = typeof detail.type === 'string' ? `${detail.type}: ` : '';
    return `${typeof status === 'number' ? `${status} ` : ''}${type}${detail.message}`;
  }
  return err.message;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
