import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { OkesuError } from '../../errors.js';
import { LIMITS } from '../../protocol/limits.js';
import { describeIssues } from '../../protocol/event.js';
import { isNestingTooDeep } from '../../protocol/json-value.js';
import type { Role } from '../../protocol/api.js';
import type { OperatorIdentity } from './operator-auth.js';

/** What a route handler receives. */
export interface RequestContext {
  req: IncomingMessage;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The authenticated operator; absent on public routes. */
  operator: OperatorIdentity | undefined;
  /** Reads the body (capped) and validates it with `schema`; throws OKS_ERR_BAD_REQUEST naming the field. */
  body<T extends z.ZodType>(schema: T): Promise<z.infer<T>>;
}

/** A handler's answer: JSON (default) or plain text. */
export interface Reply {
  status?: number;
  json?: unknown;
  text?: string;
}

/** Who may call a route: nobody needs a token (`public`) or at least this role. */
export type Access = 'public' | Role;

type Handler = (ctx: RequestContext) => Promise<Reply> | Reply;
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

/** A tiny method + path router with per-route access levels; every error becomes a catalogue error body. */
export function createRouter(deps: { log: Logger; authenticate(req: IncomingMessage): OperatorIdentity; authorize(op: OperatorIdentity, needed: Role): void }) {
  const routes: Route[] = [];

  const match = (route: Route, parts: string[]): Record<string, string> | undefined => {
    if (route.parts.length !== parts.length) return undefined;
    const params: Record<string, string> = {};
    for (let i = 0; i < parts.length; i++) {
      const want = route.parts[i] as string;
      const got = parts[i] as string;
      if (want.startsWith(':')) params[want.slice(1)] = decodeURIComponent(got);
      else if (want !== got) return undefined;
    }
    return params;
  };

  const send = (res: ServerResponse, reply: Reply): void => {
    const status = reply.status ?? 200;
    if (reply.text !== undefined) {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(reply.text);
    } else {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.json ?? {}));
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
          operator = deps.authenticate(req);
          deps.authorize(operator, found.route.access);
        }
        const ctx: RequestContext = {
          req,
          params: found.params,
          query: url.searchParams,
          operator,
          body: async (schema) => parseJsonWith(schema, (await readBody(req)).toString('utf8'), 'request body'),
        };
        send(res, await found.route.handler(ctx));
      } catch (err) {
        const error = err instanceof OkesuError ? err : new OkesuError('OKS_ERR_INTERNAL');
        if (!(err instanceof OkesuError)) deps.log.error({ err, url: req.url }, 'request failed');
        else if (error.status >= 500) deps.log.error({ code: error.code, url: req.url }, error.message);
        if (!res.headersSent) send(res, { status: error.status || 500, json: error.toBody() });
        else res.destroy();
      }
    },
  };
}
