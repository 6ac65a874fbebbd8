import { createServer } from 'node:http';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the server received: what the client SENT. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The JSON body, parsed (or the raw text when it is not JSON). */
  body: unknown;
}

/** A scripted answer: a JSON reply, or `hang` (never answer; the socket stays open until the client gives up). */
export type ScriptedReply = { status?: number; headers?: Record<string, string>; body: unknown } | 'hang';

/** A reply, or a function of the request (and its 0-based index) that picks one. */
export type Script = ScriptedReply | ((request: RecordedRequest, index: number) => ScriptedReply);

/** A local HTTP server that answers `POST <path>` from a queue of scripted replies and records every request. */
export interface ScriptedServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  requests: RecordedRequest[];
  /** Queues replies, used once each in order. */
  enqueue(...scripts: Script[]): void;
  /** The reply once the queue is empty (default: a 400 saying the script ran out, so a test fails loudly). */
  otherwise(script: Script): void;
  close(): Promise<void>;
}

/**
 * Starts a scripted server on 127.0.0.1, port 0, answering `POST path`. `errorBody` shapes the API's error body for
 * the server's own errors: another path (404), or no scripted reply left (400).
 */
export async function startScriptedServer(path: string, errorBody: (status: number, message: string) => unknown): Promise<ScriptedServer> {
  const queue: Script[] = [];
  let fallback: Script = { status: 400, body: errorBody(400, 'fake server: no scripted reply left') };
  const requests: RecordedRequest[] = [];

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      const request: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
      const index = requests.push(request) - 1;
      if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== path) {
        send(res, { status: 404, body: errorBody(404, `fake server: no route ${req.method} ${req.url}`) });
        return;
      }
      const script = queue.shift() ?? fallback;
      const reply = typeof script === 'function' ? script(request, index) : script;
      if (reply !== 'hang') send(res, reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    enqueue: (...scripts) => void queue.push(...scripts),
    otherwise: (script) => void (fallback = script),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An origin on 127.0.0.1 where nothing listens: a server was bound there and closed. */
export async function closedOrigin(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

function send(res: ServerResponse, reply: Exclude<ScriptedReply, 'hang'>): void {
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...reply.headers });
  res.end(text);
}
