import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import type { RawData } from 'ws';
import type { ClientConfig } from '../protocol/client-config.js';
import { STREAM_CLOSE_TOKEN_ENDED, streamMessageSchema } from '../protocol/api.js';
import type { FindingFilter, StreamMessage } from '../protocol/api.js';
import { describeIssues } from '../protocol/event.js';
import { normalStreamMessage } from './normal-views.js';
import { apiUrl, errorFromBody, reason } from './operator-client.js';

/** Connection state of a live stream. */
export type StreamState = 'connecting' | 'open' | 'closed';

/** Options of `openStream`. */
export interface StreamOptions {
  /** Resume point: messages with a cursor above it are replayed first. Without it the stream starts at the head. */
  after?: number;
  /** Message kinds to receive (`finding`, `host`, `run`, `orchestration_run`, `triage`); all when omitted. */
  kinds?: string[];
  /** Server-side finding filter. */
  filter?: FindingFilter;
  /** Every validated message, in order, each once. */
  onMessage(msg: StreamMessage): void;
  /** State changes; a repeated state with a `detail` reports a non-fatal event (gap, rejected frame). */
  onState?(state: StreamState, detail?: string): void;
  /** Reconnect backoff bounds (default 250 ms → 5 s). */
  backoff?: { minMs: number; maxMs: number };
  /** Ping interval; a peer silent for three intervals is dropped (default 15 s). */
  heartbeatMs?: number;
}

/** A running stream. */
export interface StreamHandle {
  /** Stops for good; `onState('closed')` follows. */
  close(): void;
  /** The last cursor seen: reconnecting with `after` = this resumes without loss or repetition. */
  cursor(): number | undefined;
}

const MAX_STREAM_FRAME_BYTES = 16 * 1024 * 1024;
const MAX_ERROR_BODY_BYTES = 64 * 1024;
const FATAL_CODES = new Set([
  'OKS_ERR_UNAUTHENTICATED', 'OKS_ERR_FORBIDDEN', 'OKS_ERR_TOKEN_INVALID', 'OKS_ERR_TOKEN_EXPIRED',
  'OKS_ERR_TOKEN_EXHAUSTED', 'OKS_ERR_TOKEN_REVOKED',
]);

/** The `/v1/stream` URL for a resume point, kinds and filter. */
export function streamUrl(cp: string, after: number | undefined, kinds?: string[], filter: FindingFilter = {}): URL {
  const url = apiUrl(cp, '/v1/stream', { after, kinds: kinds?.join(','), ...filter });
  url.protocol = 'wss:';
  return url;
}

/** Delay before reconnect attempt `attempt` (0-based): exponential from `minMs`, capped at `maxMs`, with jitter in [d/2, d]. */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const d = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(d / 2 + (random() * d) / 2);
}

/** Follows the CP's live stream, validating every frame and reconnecting by itself from the last cursor. */
export function openStream(config: ClientConfig, opts: StreamOptions): StreamHandle {
  const { minMs, maxMs } = opts.backoff ?? { minMs: 250, maxMs: 5000 };
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  let cursor = opts.after;
  let attempt = 0;
  let stopped = false;
  let ws: WebSocket | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  const state = (s: StreamState, detail?: string): void => opts.onState?.(s, detail);

  const stop = (detail?: string): void => {
    if (stopped) return;
    stopped = true;
    clearTimeout(retryTimer);
    state('closed', detail);
    ws?.terminate();
  };

  const connect = (): void => {
    state('connecting');
    const socket = new WebSocket(streamUrl(config.cp, cursor, opts.kinds, opts.filter), {
      ca: config.ca,
      headers: { authorization: `Bearer ${config.token}` },
      maxPayload: MAX_STREAM_FRAME_BYTES,
      handshakeTimeout: 10_000,
    });
    ws = socket;
    let lastHeard = Date.now();
    let why: string | undefined;
    let pinger: NodeJS.Timeout | undefined;

    socket.on('open', () => {
      lastHeard = Date.now();
      state('open');
      pinger = setInterval(() => {
        if (Date.now() - lastHeard > heartbeatMs * 3) {
          why = `no traffic for ${Math.round((Date.now() - lastHeard) / 1000)}s`;
          socket.terminate();
        } else {
          socket.ping();
        }
      }, heartbeatMs);
    });
    socket.on('pong', () => { lastHeard = Date.now(); });
    socket.on('ping', () => { lastHeard = Date.now(); });
    socket.on('message', (data: RawData) => {
      lastHeard = Date.now();
      if (stopped || ws !== socket) return;
      handleFrame(data);
    });
    socket.on('unexpected-response', (_req, res: IncomingMessage) => {
      readSmallBody(res, (text) => {
        const err = errorFromBody(res.statusCode ?? 0, safeJson(text));
        const detail = `${err.code}: ${err.message}`;
        if (res.statusCode === 401 || res.statusCode === 403 || FATAL_CODES.has(err.code)) stop(detail);
        else why = `HTTP ${res.statusCode ?? '?'} (${detail})`;
        socket.terminate();
      });
    });
    socket.on('error', (err) => { why ??= reason(err); });
    socket.on('close', (code: number, buf: Buffer) => {
      clearInterval(pinger);
      if (stopped || ws !== socket) return;
      ws = undefined;
      const text = buf.toString('utf8');
      // The token was revoked or expired while connected: every reconnect would be refused, so stop and say why.
      if (code === STREAM_CLOSE_TOKEN_ENDED) {
        stop(`${text || 'OKS_ERR_TOKEN_REVOKED'}: the CP closed the stream because its token is no longer valid`);
        return;
      }
      const detail = why ?? `closed by the CP (${code}${text ? ` ${text}` : ''})`;
      const delay = backoffDelay(attempt++, minMs, maxMs);
      state('connecting', `${detail}; retrying in ${delay} ms`);
      retryTimer = setTimeout(connect, delay);
    });
  };

  const handleFrame = (data: RawData): void => {
    const json = safeJson(rawText(data));
    // Findings and hosts (nearly every frame) in normal form are checked without zod; the schema decides the rest.
    let msg = normalStreamMessage(json);
    if (msg === undefined) {
      const parsed = streamMessageSchema.safeParse(json);
      if (!parsed.success) {
        state('open', `OKS_ERR_BAD_FRAME: ignored a stream frame: ${describeIssues(parsed.error)}`);
        return;
      }
      msg = parsed.data;
    }
    if (msg.type === 'error') {
      if (msg.code === 'OKS_ERR_STREAM_GAP') {
        // The resume point fell out of the retained feed: go on from the head rather than stall.
        cursor = undefined;
        state('open', `${msg.code}: ${msg.message}; continuing from the head`);
      } else if (FATAL_CODES.has(msg.code)) {
        stop(`${msg.code}: ${msg.message}`);
      } else {
        state('open', `${msg.code}: ${msg.message}`);
      }
      deliver(msg);
      return;
    }
    if (msg.type === 'ready' && cursor !== undefined && msg.cursor < cursor) {
      state('open', `the CP's feed head (${msg.cursor}) is behind the resume point (${cursor}); continuing from its head`);
    } else if (msg.type !== 'ready' && cursor !== undefined && msg.cursor <= cursor) {
      return; // already delivered
    }
    cursor = msg.cursor;
    attempt = 0;
    deliver(msg);
  };

  const deliver = (msg: StreamMessage): void => {
    try {
      opts.onMessage(msg);
    } catch (err) {
      // A consumer's failure must not unwind into the socket's event handler.
      state('open', `message handler failed: ${reason(err)}`);
    }
  };

  connect();
  return { close: () => stop(), cursor: () => cursor };
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function readSmallBody(res: IncomingMessage, done: (text: string) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    done(Buffer.concat(chunks).toString('utf8'));
  };
  res.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_ERROR_BODY_BYTES) chunks.push(chunk);
    else res.destroy();
  });
  res.on('end', finish);
  res.on('close', finish);
  res.on('error', finish);
}
