import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { OkesuError } from '../../errors.js';
import { LIMITS } from '../../protocol/limits.js';
import { describeIssues } from '../../protocol/event.js';
import { isNestingTooDeep } from '../../protocol/json-value.js';
import type { Role } from '../../protocol/api.js';
import type { OperatorIdentity } from './operator-auth.js';
import { RateLimitedError, type AuthFailures } from './auth-failures.js';
import type { OperatorSessions } from './operator-sessions.js';

/** What a route handler receives. */
export interface RequestContext {
  req: IncomingMessage;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The authenticated operator; absent on public routes. */
  operator: OperatorIdentity | undefined;
  /** Reads the body (capped) and validates it with `schema`; throws OKS_ERR_BAD_REQUEST naming the field. */
  body<T extends z.ZodType>(schema: T): Promise<z.infer<T>>;
  /**
   * Asks a client that sent `Expect: 100-continue` for its body (`body()` does it): a handler that streams a large
   * body calls it once the headers are checked, so a refused upload is answered before any of it is sent.
   */
  continue(): void;
}

/** A handler's answer: JSON (default), plain text, or a stream of bytes (`headers` then say what it is). */
export interface Reply {
  status?: number;
  json?: unknown;
  text?: string;
  /** Streamed as the body (a release artifact); the connection is dropped if it fails midway. */
  stream?: Readable;
  headers?: Record<string, string>;
}

/** Who may call a route: nobody needs a token (`public`) or at least this role. */
export type Access = 'public' | Role;

/** A route's handler: what it returns is sent; what it throws becomes a catalogue error body. */
export type Handler = (ctx: RequestContext) => Promise<Reply> | Reply;
interface Route {
  method: string;
  parts: string[];
  access: Access;
  handler: Handler;
}

/** Reads a request body up to `limit` bytes; throws OKS_ERR_PAYLOAD_TOO_LARGE beyond. */
export async function readBody(req: IncomingMessage, limit: number = LIMITS.requestBodyBytes): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new OkesuError('OKS_ERR_PAYLOAD_TOO_LARGE', `more than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A percent-encoded path segment, decoded; a broken encoding (`%E0%A4%A`) is the client's error, not ours. */
function decodePathSegment(segment: string, name: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new OkesuError('OKS_ERR_BAD_REQUEST', `path parameter ${name} is not valid percent-encoding`);
  }
}

/** Parses JSON text and validates it; errors say what was wrong and where. */
export function parseJsonWith<T extends z.ZodType>(schema: T, raw: string, what: string): z.infer<T> {
  let data: unknown;
  try {
    data = raw.trim() === '' ? {} : JSON.parse(raw);
  } catch (err) {
    throw new OkesuError('OKS_ERR_BAD_REQUEST', `${what} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    throw new OkesuError(isNestingTooDeep(parsed.error) ? 'OKS_ERR_NESTING_TOO_DEEP' : 'OKS_ERR_BAD_REQUEST', `${what}: ${describeIssues(parsed.error)}`);
  }
  return parsed.data;
}

/** The operator API's router: method + path routes with per-route access levels (the `add*Routes` of src/cp/api/ fill it). */
export interface Router {
  /** Registers a route; `pattern` segments starting with `:` are parameters (`/v1/runs/:id`). */
  add(method: string, pattern: string, access: Access, handler: Handler): void;
  /**
   * Handles one request: authenticates and authorizes for the route's access level, runs the handler and sends its
   * reply; every error becomes a catalogue error body. Never throws.
   */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

/** A tiny method + path router with per-route access levels; every error becomes a catalogue error body. */
export function createRouter(deps: {
  log: Logger;
  authenticate(req: IncomingMessage): OperatorIdentity;
  authorize(op: OperatorIdentity, needed: Role): void;
  /** Maps an error that is not a catalogue error (a store failure → 503 OKS_ERR_STORE_*); undefined for a 500. */
  mapError?: (err: unknown) => OkesuError | undefined;
  /** Failed operator authentications are logged, counted and limited per address here. */
  failures: AuthFailures;
  /** Reads in flight (long polls) are registered here, so revoking or expiring their token ends them. */
  sessions: OperatorSessions;
}): Router {
  const routes: Route[] = [];

  const match = (route: Route, parts: string[]): Record<string, string> | undefined => {
    if (route.parts.length !== parts.length) return undefined;
    const params: Record<string, string> = {};
    for (let i = 0; i < parts.length; i++) {
      const want = route.parts[i] as string;
      const got = parts[i] as string;
      if (want.startsWith(':')) params[want.slice(1)] = decodePathSegment(got, want.slice(1));
      else if (want !== got) return undefined;
    }
    return params;
  };

  // Operator authentication behind the per-address failure budget: a refused address is not even looked up.
  const authenticate = (req: IncomingMessage): OperatorIdentity => deps.failures.guard('operator', req.socket.remoteAddress, () => deps.authenticate(req));

  const send = (req: IncomingMessage, res: ServerResponse, reply: Reply): void => {
    const status = reply.status ?? 200;
    // A body the handler did not read (a refused upload) is not drained: the connection closes after the answer.
    const headers = req.complete ? reply.headers : { ...reply.headers, connection: 'close' };
    if (reply.stream) {
      res.writeHead(status, headers);
      pipeline(reply.stream, res).catch(() => res.destroy());
    } else if (reply.text !== undefined) {
      res.writeHead(status, { ...headers, 'content-type': 'text/plain; charset=utf-8' }).end(reply.text);
    } else {
      res.writeHead(status, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify(reply.json ?? {}));
    }
  };

  return {
    /** Registers a route; `pattern` segments starting with `:` are parameters. */
    add(method: string, pattern: string, access: Access, handler: Handler): void {
      routes.push({ method, parts: pattern.split('/').filter(Boolean), access, handler });
    },
    /** Handles one request; never throws. */
    async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
      try {
        const url = new URL(req.url ?? '/', 'https://cp.invalid');
        const parts = url.pathname.split('/').filter(Boolean);
        let found: { route: Route; params: Record<string, string> } | undefined;
        let pathKnown = false;
        for (const route of routes) {
          const params = match(route, parts);
          if (!params) continue;
          pathKnown = true;
          if (route.method === req.method) {
            found = { route, params };
            break;
          }
        }
        if (!found) throw new OkesuError('OKS_ERR_NOT_FOUND', pathKnown ? `${req.method} not allowed on ${url.pathname}` : `no endpoint ${url.pathname}`);
        let operator: OperatorIdentity | undefined;
        if (found.route.access !== 'public') {
          operator = authenticate(req);
          deps.authorize(operator, found.route.access);
        }
        let continued = false;
        const askForBody = (): void => {
          if (continued || !/100-continue/i.test(req.headers.expect ?? '')) return;
          continued = true;
          res.writeContinue();
        };
        const ctx: RequestContext = {
          req,
          params: found.params,
          query: url.searchParams,
          operator,
          body: async (schema) => {
            askForBody();
            return parseJsonWith(schema, (await readBody(req)).toString('utf8'), 'request body');
          },
          continue: askForBody,
        };
        // Reads may wait (long polls): one whose token is revoked or expires meanwhile is answered 401 at once.
        // Mutations are not cut short: they were allowed when they started and finish quickly.
        let ended = false;
        const untrack =
          operator && req.method === 'GET'
            ? deps.sessions.track(operator, (reason) => {
                ended = true;
                if (!res.headersSent) send(req, res, { status: 401, json: new OkesuError(reason).toBody() });
                else res.destroy();
              })
            : undefined;
        try {
          const reply = await found.route.handler(ctx);
          if (!ended) send(req, res, reply);
          else reply.stream?.destroy();
        } finally {
          untrack?.();
        }
      } catch (err) {
        const error = err instanceof OkesuError ? err : (deps.mapError?.(err) ?? new OkesuError('OKS_ERR_INTERNAL'));
        if (!(err instanceof OkesuError)) deps.log.error({ err, code: error.code, url: req.url }, 'request failed');
        else if (error.status >= 500) deps.log.error({ code: error.code, url: req.url }, error.message);
        const headers = error instanceof RateLimitedError ? { 'retry-after': String(error.retryAfterS) } : undefined;
        if (!res.headersSent) send(req, res, { status: error.status || 500, json: error.toBody(), headers });
        else if (!res.writableEnded) res.destroy();
      }
    },
  };
}
