import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import type { Logger } from 'pino';
import { OkesuError } from '../../errors.js';
import { LIMITS } from '../../protocol/limits.js';
import { daimonFrameSchema, type CpFrame, type DaimonFrame } from '../../protocol/tunnel.js';
import { describeIssues } from '../../protocol/event.js';
import type { DispatchEnvelope } from '../../protocol/dispatch.js';
import type { DispatchRoute, EventIngest } from '../../transport/types.js';
import type { HostsRepo, HostRow } from '../store/hosts.js';
import type { Liveness } from '../liveness.js';
import { authenticateTunnel } from './tunnel-auth.js';
import { refuseUpgrade } from '../http/refuse-upgrade.js';

interface Tunnel {
  ws: WebSocket;
  host: HostRow;
  lastSeen: number;
}

/** What the hub tells the rest of the CP. */
export interface TunnelHubEvents {
  onHello(hostname: string, runningRunIds: readonly string[]): void;
  onDispatchAck(hostname: string, runId: string, accepted: boolean, error?: { code: string; message: string }): void;
}

/**
 * The daimons' tunnels: mutual-TLS WebSockets on `/v1/tunnel`, one per host (a new one replaces the old).
 * Every frame is validated; a bad frame gets an error frame with a stable code, then close. It is also the
 * tunnel's DispatchRoute.
 */
export function createTunnelHub(deps: {
  hosts: HostsRepo;
  liveness: Liveness;
  ingest: EventIngest;
  events: TunnelHubEvents;
  heartbeatIntervalMs: number;
  now: () => number;
  log: Logger;
}) {
  // ws enforces a hard cap a little above ours, so a frame just over the limit still gets our error frame.
  const wss = new WebSocketServer({ noServer: true, maxPayload: LIMITS.tunnelFrameBytes + 64 * 1024, perMessageDeflate: false });
  const tunnels = new Map<string, Tunnel>();
  let sweeper: NodeJS.Timeout | undefined;

  const send = (ws: WebSocket, frame: CpFrame): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
  };
  const fail = (t: Tunnel, code: OkesuError['code'], detail: string, raw?: string): void => {
    deps.log.warn({ host: t.host.hostname, code, detail, frame: raw?.slice(0, 512) }, 'bad frame from daimon');
    send(t.ws, { type: 'error', code, message: new OkesuError(code, detail).message });
    t.ws.close(1008, code);
  };

  const onFrame = (t: Tunnel, frame: DaimonFrame): void => {
    const hostname = t.host.hostname;
    switch (frame.type) {
      case 'hello':
        deps.hosts.updateFacts(t.host.id, { version: frame.version, os: frame.os, arch: frame.arch, labels: { ...t.host.labels, ...frame.labels } });
        deps.liveness.heard(hostname, { running: frame.running.length, spoolDepth: frame.spool_depth });
        deps.events.onHello(hostname, frame.running);
        return;
      case 'heartbeat':
        deps.liveness.heard(hostname, { seq: frame.seq, running: frame.running, spoolDepth: frame.spool_depth });
        send(t.ws, { type: 'heartbeat_ack', seq: frame.seq });
        return;
      case 'events':
        deps.ingest.accept(hostname, frame.records).then(
          (keys) => send(t.ws, { type: 'ack', records: [...keys] }),
          (err: unknown) => deps.log.error({ err, host: hostname }, 'events not stored; the daimon will resend them'),
        );
        return;
      case 'dispatch_ack':
        deps.events.onDispatchAck(hostname, frame.run_id, frame.accepted, frame.error);
        return;
      case 'error':
        deps.log.warn({ host: hostname, code: frame.code, message: frame.message }, 'daimon reported an error');
        return;
    }
  };

  const onMessage = (t: Tunnel, data: RawData, isBinary: boolean): void => {
    t.lastSeen = deps.now();
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
    if (isBinary) return fail(t, 'OKS_ERR_BAD_FRAME', 'binary frames are not part of the protocol');
    if (buf.length > LIMITS.tunnelFrameBytes) return fail(t, 'OKS_ERR_FRAME_TOO_LARGE', `${buf.length} bytes, limit ${LIMITS.tunnelFrameBytes}`);
    const raw = buf.toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (err) {
      return fail(t, 'OKS_ERR_BAD_FRAME', `not JSON: ${(err as Error).message}`, raw);
    }
    const parsed = daimonFrameSchema.safeParse(json);
    if (!parsed.success) return fail(t, 'OKS_ERR_BAD_FRAME', describeIssues(parsed.error), raw);
    try {
      onFrame(t, parsed.data);
    } catch (err) {
      deps.log.error({ err, host: t.host.hostname }, 'handling a tunnel frame failed');
      fail(t, 'OKS_ERR_INTERNAL', 'the CP could not handle that frame');
    }
  };

  const attach = (ws: WebSocket, host: HostRow): void => {
    const hostname = host.hostname;
    const previous = tunnels.get(hostname);
    const t: Tunnel = { ws, host, lastSeen: deps.now() };
    tunnels.set(hostname, t);
    if (previous) {
      send(previous.ws, { type: 'error', code: 'OKS_ERR_TUNNEL_REPLACED', message: new OkesuError('OKS_ERR_TUNNEL_REPLACED').message });
      previous.ws.close(4000, 'replaced');
    }
    ws.on('message', (data, isBinary) => onMessage(t, data, isBinary));
    ws.on('pong', () => (t.lastSeen = deps.now()));
    ws.on('error', (err) => deps.log.warn({ host: hostname, err: err.message }, 'tunnel socket error'));
    ws.on('close', () => {
      if (tunnels.get(hostname) === t) {
        tunnels.delete(hostname);
        deps.liveness.setConnected(hostname, false);
      }
    });
    send(ws, { type: 'welcome', hostname, heartbeat_interval_ms: deps.heartbeatIntervalMs, server_time: deps.now() });
    deps.liveness.heard(hostname, {});
    deps.liveness.setConnected(hostname, true);
    deps.log.info({ host: hostname, replaced: Boolean(previous) }, 'tunnel up');
  };

  const route: DispatchRoute = {
    name: 'tunnel',
    canReach: (hostname) => tunnels.get(hostname)?.ws.readyState === 1,
    async dispatch(hostname: string, envelope: DispatchEnvelope) {
      const t = tunnels.get(hostname);
      if (!t) throw new OkesuError('OKS_ERR_HOST_UNREACHABLE', `${hostname} has no tunnel`);
      send(t.ws, { type: 'dispatch', envelope });
    },
    async cancel(hostname: string, runId: string, reason: string) {
      const t = tunnels.get(hostname);
      if (t) send(t.ws, { type: 'cancel', run_id: runId, reason });
    },
  };

  return {
    route,
    /** Handles an HTTP upgrade on `/v1/tunnel`: authenticates, or refuses with a catalogue error. */
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
      let host: HostRow;
      try {
        host = authenticateTunnel(req, deps.hosts);
      } catch (err) {
        const error = err instanceof OkesuError ? err : new OkesuError('OKS_ERR_INTERNAL');
        deps.log.warn({ code: error.code, remote: req.socket.remoteAddress, reason: error.message }, 'tunnel refused');
        refuseUpgrade(socket, error);
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => attach(ws, host));
    },
    /** Closes the tunnel of a removed host at once. */
    disconnect(hostname: string, code: OkesuError['code']): void {
      const t = tunnels.get(hostname);
      if (!t) return;
      send(t.ws, { type: 'error', code, message: new OkesuError(code).message });
      t.ws.close(4001, code);
    },
    count: (): number => tunnels.size,
    start(): void {
      // One sweep for all tunnels: ping everyone, terminate those silent for 3 intervals.
      sweeper = setInterval(() => {
        const cutoff = deps.now() - 3 * deps.heartbeatIntervalMs;
        for (const t of tunnels.values()) {
          if (t.lastSeen < cutoff) t.ws.terminate();
          else t.ws.ping();
        }
      }, deps.heartbeatIntervalMs);
      sweeper.unref();
    },
    async stop(): Promise<void> {
      if (sweeper) clearInterval(sweeper);
      for (const t of tunnels.values()) t.ws.terminate();
      tunnels.clear();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
/** The tunnel hub. */
export type TunnelHub = ReturnType<typeof createTunnelHub>;
