import type { ClientRequestArgs, IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import tls from 'node:tls';
import { WebSocket } from 'ws';
import type { RawData } from 'ws';
import { OkesuError } from '../src/errors.js';
import type { ErrorCode } from '../src/errors.js';
import { describeIssues } from '../src/protocol/event.js';
import { LIMITS } from '../src/protocol/limits.js';
import { cpFrameSchema } from '../src/protocol/tunnel.js';
import { wellFormedAckFrame } from '../src/protocol/tunnel-fast-path.js';
import type { CpFrame, DaimonFrame, EventRecord } from '../src/protocol/tunnel.js';
import type { UpgradeOrder } from '../src/protocol/rollout.js';
import type { DaimonTransport, DaimonTransportHandlers } from '../src/transport/types.js';
import type { DaimonIdentity } from './identity.js';
import type { DaimonCounters } from './metrics/daimon-counters.js';
import { createCertRenewer } from './cert-renewal.js';
import type { Logger } from './provider.js';
import { errorFromBody } from './registration.js';

/** Refusals after which reconnecting cannot help: the operator must act (register again). */
export const FATAL_CODES: ReadonlySet<string> = new Set<ErrorCode>(['OKS_ERR_HOST_REVOKED', 'OKS_ERR_HOST_MISMATCH', 'OKS_ERR_CLIENT_CERT_UNTRUSTED']);

/** What the hello and heartbeats report about this daimon, read fresh each time. */
export interface DaimonStatus {
  running: string[];
  spoolDepth: number;
}

/** The daimon's lifecycle on the tunnel (issue 15): contact marks for `health.json`, upgrade orders and their reports. */
export interface TunnelLifecycle {
  /** The CP welcomed this connection; `send` carries `upgrade_status` frames while a tunnel is up. */
  onWelcome(send: (frame: Extract<DaimonFrame, { type: 'upgrade_status' }>) => void): void;
  /** The CP acknowledged a heartbeat. */
  onHeartbeatAck(): void;
  /** The CP ordered an upgrade. */
  onUpgrade(order: UpgradeOrder): void;
}

/** How to reach the CP and how patiently. */
export interface TunnelClientOptions {
  identity: Pick<DaimonIdentity, 'cp' | 'certPem' | 'keyPem' | 'caPem' | 'credential'>;
  version: string;
  os: string;
  arch: string;
  labels: Record<string, string>;
  status: () => DaimonStatus;
  /** First reconnect delay ceiling (default 500 ms); doubles per failure up to `backoffCapMs` (default 60 s), full jitter. */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** A connection that stayed up this long resets the backoff (default 30 s). */
  backoffResetMs?: number;
  /** Silence limit before the CP's welcome tells the interval (default 5 s; the limit is 3 intervals). */
  defaultHeartbeatMs?: number;
  /** Renew the client certificate over the tunnel when a third of its lifetime is left, storing it in `stateDir`. */
  renew?: { stateDir: string; identity: DaimonIdentity; onRenewed?: (identity: DaimonIdentity) => void };
  /** Offer the last connection's TLS session on reconnect (default true): a resumed handshake costs the CP far less. */
  resumeSessions?: boolean;
  /** Set in `--transport auto`: the hello tells the CP this daimon also polls a bucket, and how often. */
  bucket?: { poll_ms: number; interval_ms: number };
  /** Upgrades and health marks (the daimon sets it; without it an upgrade order is logged and ignored). */
  lifecycle?: TunnelLifecycle;
  /** Where the tunnel's state and reconnects are counted (metrics). */
  counters?: Pick<DaimonCounters, 'tunnelConnected' | 'tunnelReconnects'>;
}

/** The tunnel transport. A dispatch ack is dropped when the tunnel is down (the CP re-learns from the run's events). */
export type TunnelClient = DaimonTransport;

/** Reads a small response body (a refused upgrade's JSON error). */
function readBody(res: IncomingMessage, limit = 64 * 1024): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      if (text.length < limit) text += chunk;
    });
    res.on('end', () => resolve(text));
    res.on('error', () => resolve(text));
  });
}

/** True when the socket's TLS handshake resumed an earlier session. */
function resumedSocket(socket: WebSocket): boolean {
  // ws keeps the TLS socket private; reading it is for the log line only.
  const raw = (socket as unknown as { _socket?: { isSessionReused?: () => boolean } })._socket;
  return raw?.isSessionReused?.() ?? false;
}

/**
 * The daimon's end of the tunnel (SPEC §3.1): a mutual-TLS WebSocket to `/v1/tunnel`, hello first, heartbeats at the
 * interval the CP's welcome names, every CP frame validated, silent CPs terminated after 3 intervals, and reconnects
 * with exponential backoff and full jitter, over at least the reconnect window the CP's welcome names. A refusal naming a fatal code goes to `onFatal` and ends the reconnecting.
 */
export function createTunnelClient(opts: TunnelClientOptions, deps: { log: Logger; now?: () => number; random?: () => number }): TunnelClient {
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const log = deps.log;
  const base = opts.backoffBaseMs ?? 500;
  const cap = opts.backoffCapMs ?? 60_000;
  const resetAfter = opts.backoffResetMs ?? 30_000;
  const url = `${opts.identity.cp.replace(/^https/, 'wss').replace(/\/+$/, '')}/v1/tunnel`;

  let handlers: DaimonTransportHandlers | undefined;
  let ws: WebSocket | undefined;
  let up = false;
  let stopped = false;
  let fatal = false;
  let attempt = 0;
  let openedAt = 0;
  let lastHeard = 0;
  let heartbeatSeq = 0;
  let intervalMs = opts.defaultHeartbeatMs ?? 5000;
  // The CP's reconnect window for its fleet (welcome): every attempt's jitter spans at least this much.
  let spreadMs = 0;
  let heartbeatTimer: NodeJS.Timeout | undefined;
  let watchdog: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let closed: Promise<void> = Promise.resolve();
  // The certificate and key of the next connection (a renewal replaces them) and the TLS session to offer with them.
  let creds: Pick<DaimonIdentity, 'certPem' | 'keyPem'> = opts.identity;
  let session: Buffer | undefined;
  const resume = opts.resumeSessions ?? true;
  const renewer = opts.renew && createCertRenewer(
    {
      ...opts.renew,
      onRenewed: (identity) => {
        // A session resumes the certificate it was made with: the renewed one needs a full handshake once.
        creds = identity;
        session = undefined;
        opts.renew?.onRenewed?.(identity);
      },
    },
    { log, now },
  );

  const sendFrame = (socket: WebSocket, frame: DaimonFrame): void => {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
  };
  // Upgrade reports go on whichever tunnel is up when they are made (a download may outlive a connection).
  const sendLifecycle = (frame: DaimonFrame): void => {
    if (ws && up) sendFrame(ws, frame);
    else log.warn({ type: frame.type }, 'tunnel down: frame not sent');
  };
  const clearTimers = (): void => {
    clearInterval(heartbeatTimer);
    clearInterval(watchdog);
    heartbeatTimer = watchdog = undefined;
  };
  const watch = (socket: WebSocket): void => {
    clearInterval(watchdog);
    watchdog = setInterval(() => {
      if (now() - lastHeard <= 3 * intervalMs) return;
      log.warn({ silent_ms: now() - lastHeard, heartbeat_interval_ms: intervalMs }, 'nothing heard from the CP for 3 heartbeat intervals; dropping the tunnel');
      socket.terminate();
    }, intervalMs);
  };
  const goFatal = (code: string, message: string): void => {
    if (fatal) return;
    fatal = true;
    log.error({ code, message }, 'the CP refused this host for good');
    handlers?.onFatal(code, message);
  };

  const onFrame = (socket: WebSocket, frame: CpFrame): void => {
    switch (frame.type) {
      case 'welcome':
        intervalMs = frame.heartbeat_interval_ms;
        spreadMs = frame.reconnect_spread_ms ?? 0;
        clearInterval(heartbeatTimer);
        heartbeatTimer = setInterval(() => {
          const status = opts.status();
          sendFrame(socket, { type: 'heartbeat', seq: ++heartbeatSeq, ts: now(), running: status.running.length, spool_depth: status.spoolDepth });
        }, intervalMs);
        watch(socket);
        up = true;
        if (opts.counters) opts.counters.tunnelConnected = 1;
        log.info({ cp: opts.identity.cp, host: frame.hostname, heartbeat_interval_ms: intervalMs, resumed: resumedSocket(socket) }, 'tunnel up');
        handlers?.onUp();
        renewer?.onUp((f) => sendFrame(socket, f));
        opts.lifecycle?.onWelcome(sendLifecycle);
        return;
      case 'cert_renewed':
        renewer?.onRenewed(frame.certificate);
        return;
      case 'heartbeat_ack':
        opts.lifecycle?.onHeartbeatAck();
        return;
      case 'upgrade':
        if (opts.lifecycle) opts.lifecycle.onUpgrade(frame);
        else log.warn({ rollout_id: frame.rollout_id }, 'upgrade order ignored: this daimon does not take upgrades');
        return;
      case 'ack':
        handlers?.onAck(frame.records);
        return;
      case 'dispatch':
        handlers?.onDispatch(frame.envelope);
        return;
      case 'cancel':
        handlers?.onCancel(frame.run_id, frame.reason);
        return;
      case 'error':
        if (FATAL_CODES.has(frame.code)) goFatal(frame.code, frame.message);
        else if (frame.code === 'OKS_ERR_CERT_RENEWAL') renewer?.onRefused(frame.message);
        else if (frame.code === 'OKS_ERR_TUNNEL_REPLACED') log.warn({ code: frame.code }, 'a newer tunnel of this host replaced this one; reconnecting');
        else log.warn({ code: frame.code, message: frame.message }, 'the CP reported an error');
        return;
    }
  };

  const onMessage = (socket: WebSocket, data: RawData, isBinary: boolean): void => {
    const raw = (Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8');
    let problem: string;
    try {
      const value: unknown = isBinary ? undefined : JSON.parse(raw);
      // The frame a daimon reads most (one per batch it sends) in its usual shape, without zod; the schema decides the rest.
      const ack = wellFormedAckFrame(value);
      if (ack) return onFrame(socket, ack);
      const parsed = isBinary ? undefined : cpFrameSchema.safeParse(value);
      if (parsed?.success) return onFrame(socket, parsed.data);
      problem = parsed ? describeIssues(parsed.error) : 'binary frames are not part of the protocol';
    } catch (err) {
      if (!(err instanceof SyntaxError)) {
        log.error({ err }, 'handling a CP frame failed');
        return;
      }
      problem = `not JSON: ${err.message}`;
    }
    log.warn({ problem, frame: raw.slice(0, 512) }, 'invalid frame from the CP');
    sendFrame(socket, { type: 'error', code: 'OKS_ERR_BAD_FRAME', message: new OkesuError('OKS_ERR_BAD_FRAME', problem).message.slice(0, 4096) });
  };

  /** Sends records given as their JSON, in `events` frames split by count and by bytes so none exceeds what the CP accepts. */
  const sendEventLines = (lines: readonly string[]): void => {
    const socket = ws;
    if (!up || !socket) return;
    const budget = LIMITS.tunnelFrameBytes - 1024;
    let parts: string[] = [];
    let size = 0;
    const flush = (): void => {
      if (parts.length > 0 && socket.readyState === WebSocket.OPEN) socket.send(`{"type":"events","records":[${parts.join(',')}]}`);
      parts = [];
      size = 0;
    };
    for (const text of lines) {
      const bytes = Buffer.byteLength(text) + 1;
      if (parts.length >= LIMITS.recordsPerFrame || (parts.length > 0 && size + bytes > budget)) flush();
      parts.push(text);
      size += bytes;
    }
    flush();
  };

  const scheduleReconnect = (): void => {
    if (stopped || fatal) return;
    if (openedAt > 0 && now() - openedAt > resetAfter) attempt = 0;
    // Full jitter over the backoff window, or over the CP's fleet-sized window when that is longer: after a CP restart
    // thousands of daimons then arrive at a pace it can take instead of overflowing its accept queue at once.
    const delay = Math.floor(random() * Math.max(spreadMs, Math.min(cap, base * 2 ** Math.min(attempt, 30))));
    attempt++;
    if (opts.counters) opts.counters.tunnelReconnects++;
    log.info({ delay_ms: delay, attempt }, 'reconnecting to the CP');
    retryTimer = setTimeout(connect, delay);
  };

  const connect = (): void => {
    retryTimer = undefined;
    if (stopped || fatal) return;
    openedAt = 0;
    const using = creds;
    const offered = resume ? session : undefined;
    const socket = new WebSocket(url, {
      key: using.keyPem,
      cert: using.certPem,
      ca: opts.identity.caPem,
      ...(offered && { session: offered }),
      // ws's own TLS connect, plus keeping the session tickets the CP sends (TLS 1.3 sends them after the handshake).
      createConnection: (options: ClientRequestArgs) => {
        const o = { ...(options as tls.ConnectionOptions), path: undefined };
        if (!o.servername && o.servername !== '') o.servername = isIP(o.host ?? '') ? '' : o.host;
        const s = tls.connect(o);
        if (resume) s.on('session', (ticket: Buffer) => {
          if (creds === using) session = ticket;
        });
        return s;
      },
      headers: { authorization: `Bearer ${opts.identity.credential}` },
      maxPayload: LIMITS.tunnelFrameBytes,
      perMessageDeflate: false,
      handshakeTimeout: 30_000,
    });
    ws = socket;
    let resolveClosed: () => void = () => undefined;
    closed = new Promise<void>((resolve) => (resolveClosed = resolve));
    socket.on('unexpected-response', (_req, res) => {
      void readBody(res).then((text) => {
        const err = errorFromBody(res.statusCode ?? 0, text);
        // Whatever the refusal, the next attempt makes a full handshake; a resumed session's refusal is not final.
        session = undefined;
        if (offered && FATAL_CODES.has(err.code)) log.warn({ code: err.code, message: err.message }, 'the CP refused a resumed session; retrying with a full handshake');
        else if (FATAL_CODES.has(err.code)) goFatal(err.code, err.message);
        else log.warn({ status: res.statusCode, code: err.code, message: err.message }, 'the CP refused the tunnel');
        socket.terminate();
      });
    });
    socket.on('open', () => {
      openedAt = lastHeard = now();
      const status = opts.status();
      sendFrame(socket, {
        type: 'hello', protocol: 1, version: opts.version, os: opts.os, arch: opts.arch, labels: opts.labels,
        running: status.running, spool_depth: status.spoolDepth, ...(opts.bucket && { bucket: opts.bucket }),
      });
      watch(socket);
    });
    socket.on('message', (data, isBinary) => {
      lastHeard = now();
      onMessage(socket, data, isBinary);
    });
    socket.on('pong', () => (lastHeard = now()));
    socket.on('ping', () => (lastHeard = now()));
    socket.on('error', (err) => log.warn({ err: err.message }, 'tunnel error'));
    socket.on('close', (code, reason) => {
      clearTimers();
      renewer?.onDown();
      const wasUp = up;
      up = false;
      if (opts.counters) opts.counters.tunnelConnected = 0;
      if (ws === socket) ws = undefined;
      resolveClosed();
      if (wasUp) {
        log.warn({ code, reason: reason.toString() }, 'tunnel down');
        handlers?.onDown(`closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`);
      }
      scheduleReconnect();
    });
  };

  return {
    name: 'tunnel',
    start(h) {
      handlers = h;
      stopped = false;
      connect();
    },
    send(records: readonly EventRecord[]) {
      sendEventLines(records.map((record) => JSON.stringify(record)));
    },
    sendLines: sendEventLines,
    ackDispatch(runId, accepted, error) {
      if (ws && up) sendFrame(ws, { type: 'dispatch_ack', run_id: runId, accepted, ...(error && { error: { code: error.code, message: error.message.slice(0, 4096) } }) });
      else log.warn({ run_id: runId, accepted }, 'tunnel down: dispatch answer not sent');
    },
    isUp: () => up,
    reportUpgrade: (report) => sendLifecycle({ type: 'upgrade_status', ...report }),
    async stop() {
      stopped = true;
      renewer?.stop();
      clearTimeout(retryTimer);
      clearTimers();
      const socket = ws;
      if (!socket) return;
      if (socket.readyState === WebSocket.OPEN) socket.close(1000, 'daimon stopping');
      else socket.terminate();
      const timer = setTimeout(() => socket.terminate(), 2000);
      await closed;
      clearTimeout(timer);
    },
  };
}
