import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import { z } from 'zod';
import { OkesuError } from '../../errors.js';
import { LIMITS } from '../../protocol/limits.js';
import { findingFilterSchema, STREAM_CLOSE_TOKEN_ENDED, type FindingFilter, type StreamMessage } from '../../protocol/api.js';
import { describeIssues } from '../../protocol/event.js';
import type { StoredFinding } from '../../protocol/finding.js';
import { matchesFilter } from '../../protocol/finding-filter.js';
import type { FeedEntry, FeedKind, FeedRepo } from '../store/feed.js';
import { refuseUpgrade } from '../http/refuse-upgrade.js';
import type { OperatorIdentity } from '../http/operator-auth.js';
import type { AuthFailures } from '../http/auth-failures.js';
import type { EndReason, OperatorSessions } from '../http/operator-sessions.js';

const KINDS = ['finding', 'host', 'run', 'orchestration_run', 'triage', 'rollout'] as const satisfies readonly FeedKind[];
const REPLAY_PAGE = 500;
// A client this far behind is cut off; it reconnects with its cursor and catches up from the feed.
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

const streamQuerySchema = findingFilterSchema.extend({
  after: z.coerce.number().int().nonnegative().optional(),
  kinds: z
    .string()
    .transform((s) => s.split(',').filter(Boolean))
    .pipe(z.array(z.enum(KINDS)))
    .optional(),
});

interface Client {
  ws: WebSocket;
  /** The socket under `ws`: corked while a batch of messages is written, so the batch leaves in one write. */
  socket: Duplex;
  kinds: ReadonlySet<FeedKind>;
  filter: FindingFilter;
  live: boolean;
  alive: boolean;
  /** The highest cursor this client was sent (or told, by `ready`): nothing at or below it is sent again. */
  last: number;
}

/**
 * The operator live stream on `/v1/stream`: fleet changes, new findings, run updates and triage decisions, each with
 * its feed cursor.
 * A client that reconnects with `?after=<last cursor>` gets the retained backlog first, then live messages,
 * with nothing missed and nothing repeated.
 */
export function createStreamHub(deps: {
  feed: FeedRepo;
  authenticate(req: IncomingMessage): OperatorIdentity;
  /** Failed authentications are logged, counted and limited per address here. */
  failures: AuthFailures;
  /** Each socket is registered under its token, so revoking or expiring the token closes it. */
  sessions: OperatorSessions;
  log: Logger;
}): StreamHub {
  const wss = new WebSocketServer({ noServer: true, maxPayload: LIMITS.streamClientFrameBytes, perMessageDeflate: false });
  const clients = new Set<Client>();
  let pinger: NodeJS.Timeout | undefined;

  const deliver = (c: Client, kind: FeedKind, cursor: number, payload: unknown): void => {
    // On a cluster this replica's follower can hand on an entry the client already replayed from the store.
    if (cursor <= c.last) return;
    c.last = cursor;
    if (!c.kinds.has(kind)) return;
    if (kind === 'finding' && !matchesFilter(payload as StoredFinding, c.filter)) return;
    if (c.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      c.ws.close(1013, 'client too slow; reconnect with your cursor');
      return;
    }
    const msg =
      kind === 'finding' ? { type: 'finding', cursor, finding: payload }
      : kind === 'host' ? { type: 'host', cursor, host: payload }
      : kind === 'orchestration_run' ? { type: 'orchestration_run', cursor, run: payload }
      : kind === 'triage' ? { type: 'triage', cursor, triage: payload }
      // A rollout entry's payload is `{ rollout, host? }` (src/cp/rollouts/rollout-engine.ts).
      : kind === 'rollout' ? { type: 'rollout', cursor, ...(payload as object) }
      : { type: 'run', cursor, run: payload };
    c.ws.send(JSON.stringify(msg));
  };
  const sendRaw = (c: Client, msg: StreamMessage): void => c.ws.send(JSON.stringify(msg));

  let pending: { kind: FeedKind; cursor: number; payload: unknown }[] = [];
  const flushPending = (): void => {
    const batch = pending.sort((a, b) => a.cursor - b.cursor);
    pending = [];
    // One ingest commit publishes many entries: corked, each client gets them as one TLS write, not one per message
    // (at 10,000 findings/s, a write per message was most of the CP's stream cost and the client's read cost).
    const corked: Client[] = [];
    for (const c of clients) {
      if (!c.live) continue;
      c.socket.cork();
      corked.push(c);
    }
    try {
      for (const e of batch) deliverToAll(e);
    } finally {
      for (const c of corked) c.socket.uncork();
    }
  };
  const deliverToAll = (e: { kind: FeedKind; cursor: number; payload: unknown }): void => {
    for (const c of clients) {
      if (!c.live) continue;
      try {
        deliver(c, e.kind, e.cursor, e.payload);
      } catch (err) {
        // Outside any caller's try now (a microtask): one client's failure must not take the CP down.
        deps.log.error({ err }, 'stream delivery failed');
        c.ws.terminate();
      }
    }
  };

  const replay = (c: Client, after: number): void => {
    let cursor = after;
    const oldest = deps.feed.oldest();
    if (after > 0 && oldest !== undefined && after < oldest - 1) {
      sendRaw(c, { type: 'error', code: 'OKS_ERR_STREAM_GAP', message: new OkesuError('OKS_ERR_STREAM_GAP', `cursor ${after}, oldest retained ${oldest}`).message });
    }
    // Replay pages on later turns so a long backlog does not block the CP; messages published meanwhile are
    // already committed, so the next page reads them. Going live happens in the same turn as the last read.
    const step = (): void => {
      if (c.ws.readyState !== c.ws.OPEN) return;
      // The head before the page: an entry committed in between (the ingest thread commits at any time) is then either
      // in the page or above the head, published live after `ready` — never skipped as already seen.
      const head = deps.feed.head();
      const page: FeedEntry[] = deps.feed.after(cursor, REPLAY_PAGE);
      c.socket.cork();
      try {
        for (const e of page) if (e.payload !== null) deliver(c, e.kind, e.id, e.payload);
      } finally {
        c.socket.uncork();
      }
      if (page.length > 0) cursor = (page[page.length - 1] as FeedEntry).id;
      if (page.length === REPLAY_PAGE) {
        setImmediate(() => {
          // A later page runs on its own turn: a store read error there would be uncaught; the client resumes instead.
          try {
            step();
          } catch (err) {
            deps.log.error({ err }, 'stream replay failed');
            c.ws.terminate();
          }
        });
        return;
      }
      c.live = true;
      c.last = Math.max(cursor, head);
      sendRaw(c, { type: 'ready', cursor: c.last });
    };
    step();
  };

  // The error frame says why in words a client shows; the close code tells it not to reconnect with this token.
  const endForToken = (c: Client, op: OperatorIdentity, reason: EndReason): void => {
    clients.delete(c);
    if (c.ws.readyState !== c.ws.OPEN) return;
    sendRaw(c, { type: 'error', code: reason, message: new OkesuError(reason).message });
    c.ws.close(STREAM_CLOSE_TOKEN_ENDED, reason);
    deps.log.info({ token: op.tokenId, reason }, 'stream closed: its token lost its standing');
  };

  const attach = (ws: WebSocket, socket: Duplex, op: OperatorIdentity, query: z.infer<typeof streamQuerySchema>): void => {
    const { after, kinds, ...filter } = query;
    const c: Client = { ws, socket, kinds: new Set(kinds && kinds.length ? kinds : KINDS), filter, live: false, alive: true, last: 0 };
    clients.add(c);
    const untrack = deps.sessions.track(op, (reason) => endForToken(c, op, reason));
    ws.on('pong', () => (c.alive = true));
    ws.on('message', () => undefined); // clients have nothing to say; frames are ignored (size-capped by maxPayload)
    ws.on('error', (err) => deps.log.debug({ err: err.message }, 'stream socket error'));
    ws.on('close', () => {
      clients.delete(c);
      untrack();
    });
    replay(c, after ?? deps.feed.head());
  };

  return {
    /**
     * Publishes a committed feed entry to every live client. Entries published in one turn go out at the end of it
     * in cursor order: one ingest commit appends its findings, then its runs' changes, but settles host by host, and
     * a client resumes from the last cursor it saw, so a lower cursor after a higher one would be dropped for good.
     */
    publish(kind: FeedKind, cursor: number, payload: unknown): void {
      pending.push({ kind, cursor, payload });
      if (pending.length === 1) queueMicrotask(flushPending);
    },
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
      try {
        const op = deps.failures.guard('operator', req.socket.remoteAddress, () => deps.authenticate(req));
        const url = new URL(req.url ?? '/', 'https://cp.invalid');
        const parsed = streamQuerySchema.safeParse(Object.fromEntries(url.searchParams));
        if (!parsed.success) throw new OkesuError('OKS_ERR_BAD_REQUEST', `stream query: ${describeIssues(parsed.error)}`);
        wss.handleUpgrade(req, socket, head, (ws) => attach(ws, socket, op, parsed.data));
      } catch (err) {
        const error = err instanceof OkesuError ? err : new OkesuError('OKS_ERR_INTERNAL');
        refuseUpgrade(socket, error);
      }
    },
    count: (): number => clients.size,
    start(): void {
      pinger = setInterval(() => {
        for (const c of clients) {
          if (!c.alive) c.ws.terminate();
          c.alive = false;
          c.ws.ping();
        }
      }, 30_000);
      pinger.unref();
    },
    async stop(): Promise<void> {
      if (pinger) clearInterval(pinger);
      for (const c of clients) c.ws.terminate();
      clients.clear();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
/** The operator live stream on `/v1/stream`: committed feed entries to every live client, resumable by cursor. */
export interface StreamHub {
  /**
   * Publishes a committed feed entry to every live client whose kinds and filter take it. Entries published in one
   * turn go out at the end of it in cursor order (a client resumes from the last cursor it saw).
   */
  publish(kind: FeedKind, cursor: number, payload: unknown): void;
  /** Handles an HTTP upgrade on `/v1/stream` (`?after=`, `?kinds=`, finding filters): authenticates, or refuses with a catalogue error. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** How many clients are connected. */
  count(): number;
  /** Starts the 30 s ping sweep that terminates clients that stopped answering. */
  start(): void;
  /** Stops the sweep, terminates every client and closes the WebSocket server. */
  stop(): Promise<void>;
}
