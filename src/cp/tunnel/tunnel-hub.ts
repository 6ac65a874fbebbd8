import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import type { Logger } from 'pino';
import { OkesuError } from '../../errors.js';
import { LIMITS } from '../../protocol/limits.js';
import { daimonFrameSchema, type CpFrame, type DaimonFrame } from '../../protocol/tunnel.js';
import { describeIssues } from '../../protocol/event.js';
import { isNestingTooDeep } from '../../protocol/json-value.js';
import type { DispatchEnvelope } from '../../protocol/dispatch.js';
import type { DispatchRoute, EventIngest, IngestAck } from '../../transport/types.js';
import type { HostsRepo, HostRow } from '../store/hosts.js';
import { applyLabelOverrides } from '../store/hosts.js';
import type { Liveness } from '../liveness.js';
import { authenticateTunnel } from './tunnel-auth.js';
import type { CertRenewal } from './cert-renewal.js';
import { refuseUpgrade } from '../http/refuse-upgrade.js';
import { isStoreFailure } from '../store/store-health.js';
import type { AuthFailures } from '../http/auth-failures.js';
import type { UpgradeReport } from '../../protocol/rollout.js';
import type { TunnelHub } from './tunnel-hub-contract.js';

export type { TunnelHub } from './tunnel-hub-contract.js';

/** True when a hello's facts equal what the store already holds for the host. */
function sameFacts(row: HostRow, f: { version: string; os: string; arch: string; labels: Record<string, string> }): boolean {
  if (row.version !== f.version || row.os !== f.os || row.arch !== f.arch) return false;
  const a = Object.keys(row.labels);
  return a.length === Object.keys(f.labels).length && a.every((k) => row.labels[k] === f.labels[k]);
}

/** The error frame's message for refused runs: which, and why, cut to the frame's message limit. */
function describeRefusal(refused: IngestAck['refused']): string {
  const why = { unknown: 'not dispatched by the CP and not a tick of this host', foreign: 'dispatched to another host' };
  const listed = refused.slice(0, 20).map((r) => `${r.run_id} (${why[r.reason]})`).join(', ');
  const more = refused.length > 20 ? ` and ${refused.length - 20} more` : '';
  return new OkesuError('OKS_ERR_RUN_UNKNOWN', `records acknowledged and dropped for ${listed}${more}`).message.slice(0, 4096);
}

/**
 * Default tunnel handshakes per second a CP paces its fleet to after a restart (`cp serve --reconnect-rate`). Measured
 * on a 2-core machine shared with 10,000 simulated daimons, a reconnect (mutual TLS, ~2.5 ms of it in OpenSSL 3; auth;
 * hello; the resent events) costs the CP ~5 ms of CPU, so ~170/s saturate it; 150/s keeps it answering operators.
 */
export const DEFAULT_RECONNECT_RATE_PER_S = 150;

/** The reconnect window the CP asks of each daimon: long enough for the whole connected fleet at `ratePerS`. */
export function reconnectSpreadMs(connected: number, ratePerS = DEFAULT_RECONNECT_RATE_PER_S): number {
  return Math.min(600_000, Math.floor((connected / ratePerS) * 1000));
}

interface Tunnel {
  ws: WebSocket;
  host: HostRow;
  lastSeen: number;
  /** Not being read because the ingest queue is deep. */
  paused: boolean;
  /** The serial of the certificate the daimon holds: the one this tunnel authenticated with, then each renewal's. */
  serial: string;
  /** A `renew_cert` is being answered: a second one meanwhile is refused. */
  renewing: boolean;
}

/** Back-pressure from the ingest queue: while it is deep, tunnels that bring events stop being read. */
export interface IngestPressure {
  isDeep(): boolean;
  onDrained(fn: () => void): void;
}

/** What the hub tells the rest of the CP. */
export interface TunnelHubEvents {
  /** A daimon said hello: its running runs, and the version it runs (a restarted host on a rollout's version is healthy). */
  onHello(hostname: string, runningRunIds: readonly string[], version: string): void;
  /** A daimon reported progress on an upgrade the CP ordered (issue 15). */
  onUpgradeStatus?(hostname: string, report: UpgradeReport): void;
  onDispatchAck(hostname: string, runId: string, accepted: boolean, error?: { code: string; message: string }): void;
  /** A host's tunnel opened (`up`) or closed on this CP: a cluster's other replicas learn where it is. */
  onTunnel?(hostname: string, up: boolean): void;
}

/**
 * The daimons' tunnels: mutual-TLS WebSockets on `/v1/tunnel`, one per host (a new one replaces the old).
 * Every frame is validated; a bad frame gets an error frame with a stable code, then close. It is also the
 * tunnel's DispatchRoute.
 */
export function createTunnelHub(deps: {
  hosts: HostsRepo;
  liveness: Liveness;
  ingest: EventIngest & IngestPressure;
  events: TunnelHubEvents;
  heartbeatIntervalMs: number;
  /** Handshakes per second the fleet is paced to after a CP restart (the welcome's reconnect window). */
  reconnectRatePerS?: number;
  now: () => number;
  log: Logger;
  /** Refused tunnels are logged, counted and limited per address here. */
  failures: AuthFailures;
  /** Certificate renewal over the tunnel (`renew_cert`); absent: refused. */
  renewal?: CertRenewal;
}): TunnelHub {
  // ws enforces a hard cap a little above ours, so a frame just over the limit still gets our error frame.
  const wss = new WebSocketServer({ noServer: true, maxPayload: LIMITS.tunnelFrameBytes + 64 * 1024, perMessageDeflate: false });
  const tunnels = new Map<string, Tunnel>();
  const paused = new Set<Tunnel>();
  let sweeper: NodeJS.Timeout | undefined;

  // Stop reading a tunnel (TCP flow control then slows its daimon) until the queue drains; a paused tunnel's
  // silence is the CP's doing, so its clock restarts when it is read again.
  const pause = (t: Tunnel): void => {
    if (t.paused || t.ws.readyState !== t.ws.OPEN) return;
    t.paused = true;
    paused.add(t);
    t.ws.pause();
  };
  // A close handshake needs the peer's close frame read: a paused tunnel is resumed before it is closed.
  const close = (t: Tunnel, code: number, reason: string): void => {
    if (t.paused) {
      t.paused = false;
      paused.delete(t);
      t.ws.resume();
    }
    t.ws.close(code, reason);
  };
  deps.ingest.onDrained(() => {
    const at = deps.now();
    for (const t of paused) {
      t.paused = false;
      t.lastSeen = at;
      t.ws.resume();
    }
    paused.clear();
  });

  const send = (ws: WebSocket, frame: CpFrame): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
  };
  const fail = (t: Tunnel, code: OkesuError['code'], detail: string, raw?: string): void => {
    deps.log.warn({ host: t.host.hostname, code, detail, frame: raw?.slice(0, 512) }, 'bad frame from daimon');
    send(t.ws, { type: 'error', code, message: new OkesuError(code, detail).message });
    close(t, 1008, code);
  };

  const onFrame = (t: Tunnel, frame: DaimonFrame): void => {
    const hostname = t.host.hostname;
    switch (frame.type) {
      case 'hello': {
        // The daimon's labels are exactly what it announces now (a label dropped from its flags goes); an operator's
        // (okesu hosts label), kept apart, win over them.
        const labels = applyLabelOverrides(frame.labels, deps.hosts.labelOverrides(hostname));
        const facts = { version: frame.version, os: frame.os, arch: frame.arch, labels };
        // A reconnect usually brings the same facts: skip the write (and its fsync) then.
        if (!sameFacts(t.host, facts)) deps.hosts.updateFacts(t.host.id, facts);
        deps.liveness.heard(hostname, { running: frame.running.length, spoolDepth: frame.spool_depth });
        // A daimon that also polls a bucket says so: the CP may dispatch through the bucket while this tunnel is down.
        deps.liveness.setTransport(hostname, frame.bucket
          ? { transport: 'auto', pollMs: frame.bucket.poll_ms, intervalMs: frame.bucket.interval_ms }
          : { transport: 'tunnel', pollMs: null, intervalMs: null });
        deps.events.onHello(hostname, frame.running, frame.version);
        return;
      }
      case 'heartbeat':
        deps.liveness.heard(hostname, { seq: frame.seq, running: frame.running, spoolDepth: frame.spool_depth });
        send(t.ws, { type: 'heartbeat_ack', seq: frame.seq });
        return;
      case 'events':
        deps.ingest.accept(hostname, frame.records).then(
          (ack) => {
            // Refused records are acknowledged too (they would be refused again): the daimon's spool drains, and the
            // error frame tells it, so its log says which runs the CP would not take.
            send(t.ws, { type: 'ack', records: [...ack.acked] });
            if (ack.refused.length > 0) send(t.ws, { type: 'error', code: 'OKS_ERR_RUN_UNKNOWN', message: describeRefusal(ack.refused) });
          },
          (err: unknown) => deps.log.error({ err, host: hostname }, 'events not stored; the daimon will resend them'),
        );
        if (deps.ingest.isDeep()) pause(t);
        return;
      case 'dispatch_ack':
        deps.events.onDispatchAck(hostname, frame.run_id, frame.accepted, frame.error);
        return;
      case 'error':
        deps.log.warn({ host: hostname, code: frame.code, message: frame.message }, 'daimon reported an error');
        return;
      case 'renew_cert':
        return renew(t, frame.csr);
      case 'upgrade_status':
        deps.events.onUpgradeStatus?.(hostname, { rollout_id: frame.rollout_id, version: frame.version, state: frame.state, ...(frame.reason !== undefined && { reason: frame.reason }) });
        return;
    }
  };

  const renew = (t: Tunnel, csr: string): void => {
    if (!deps.renewal || t.renewing) {
      const detail = t.renewing ? 'a renewal of this tunnel is already in progress' : 'this CP does not renew certificates';
      send(t.ws, { type: 'error', code: 'OKS_ERR_CERT_RENEWAL', message: new OkesuError('OKS_ERR_CERT_RENEWAL', detail).message });
      return;
    }
    t.renewing = true;
    void deps.renewal.renew(t.host, t.serial, csr).then((answer) => {
      t.renewing = false;
      if (t.ws.readyState !== t.ws.OPEN) return;
      // Delivered on this tunnel, the renewed certificate is the one the daimon holds from now on (a later renewal
      // on the same tunnel keeps it acceptable until its own successor is used).
      if (answer.serial) t.serial = answer.serial;
      send(t.ws, answer.frame);
    });
  };

  const onMessage = (t: Tunnel, data: RawData, isBinary: boolean): void => {
    t.lastSeen = deps.now();
    const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
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
    if (!parsed.success) return fail(t, isNestingTooDeep(parsed.error) ? 'OKS_ERR_NESTING_TOO_DEEP' : 'OKS_ERR_BAD_FRAME', describeIssues(parsed.error), raw);
    try {
      onFrame(t, parsed.data);
    } catch (err) {
      // The store refusing a write (disk full) is the CP's trouble, not the daimon's: the tunnel stays up.
      if (isStoreFailure(err)) return void deps.log.warn({ err, host: t.host.hostname, frame: parsed.data.type }, 'a tunnel frame could not be stored');
      deps.log.error({ err, host: t.host.hostname }, 'handling a tunnel frame failed');
      fail(t, 'OKS_ERR_INTERNAL', 'the CP could not handle that frame');
    }
  };

  const attach = (ws: WebSocket, host: HostRow, serial: string, resumed: boolean): void => {
    const hostname = host.hostname;
    const previous = tunnels.get(hostname);
    const t: Tunnel = { ws, host, lastSeen: deps.now(), paused: false, serial, renewing: false };
    tunnels.set(hostname, t);
    if (previous) {
      send(previous.ws, { type: 'error', code: 'OKS_ERR_TUNNEL_REPLACED', message: new OkesuError('OKS_ERR_TUNNEL_REPLACED').message });
      close(previous, 4000, 'replaced');
    }
    ws.on('message', (data, isBinary) => onMessage(t, data, isBinary));
    ws.on('pong', () => (t.lastSeen = deps.now()));
    ws.on('error', (err) => deps.log.warn({ host: hostname, err: err.message }, 'tunnel socket error'));
    ws.on('close', () => {
      paused.delete(t);
      if (tunnels.get(hostname) === t) {
        tunnels.delete(hostname);
        deps.liveness.setConnected(hostname, false);
        deps.events.onTunnel?.(hostname, false);
      }
    });
    send(ws, { type: 'welcome', hostname, heartbeat_interval_ms: deps.heartbeatIntervalMs, server_time: deps.now(), reconnect_spread_ms: reconnectSpreadMs(tunnels.size, deps.reconnectRatePerS) });
    deps.liveness.heard(hostname, {});
    deps.liveness.setConnected(hostname, true);
    deps.events.onTunnel?.(hostname, true);
    deps.log.info({ host: hostname, replaced: Boolean(previous), serial, resumed }, 'tunnel up');
  };

  // Hosts registered before keys were kept: their key is read from the certificate their tunnel proved, so what they
  // write to a bucket later verifies.
  const backfillKey = (host: HostRow, socket: TLSSocket): void => {
    try {
      const spki = socket.getPeerX509Certificate()?.publicKey.export({ type: 'spki', format: 'der' });
      if (spki && deps.hosts.backfillPublicKey(host.id, spki.toString('base64'))) deps.log.info({ host: host.hostname }, 'host public key recorded from its certificate');
    } catch (err) {
      deps.log.warn({ err, host: host.hostname }, 'could not record the host public key from its certificate');
    }
  };

  const route: DispatchRoute = {
    name: 'tunnel',
    canReach: (hostname) => tunnels.get(hostname)?.ws.readyState === 1,
    whyNot: (hostname) => (tunnels.get(hostname)?.ws.readyState === 1 ? undefined : 'no tunnel connected'),
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
      const remote = req.socket.remoteAddress;
      let serial: string;
      try {
        ({ host, serial } = deps.failures.guard('tunnel', remote, () => authenticateTunnel(req, deps.hosts)));
      } catch (err) {
        const error = err instanceof OkesuError ? err : new OkesuError('OKS_ERR_INTERNAL');
        if (!(err instanceof OkesuError)) deps.log.error({ err, remote }, 'tunnel authentication failed');
        refuseUpgrade(socket, error);
        return;
      }
      const resumed = (req.socket as TLSSocket).isSessionReused();
      if (host.public_key === null) backfillKey(host, req.socket as TLSSocket);
      wss.handleUpgrade(req, socket, head, (ws) => attach(ws, host, serial, resumed));
    },
    /** Closes the tunnel of a removed host at once. */
    disconnect(hostname: string, code: OkesuError['code']): void {
      const t = tunnels.get(hostname);
      if (!t) return;
      send(t.ws, { type: 'error', code, message: new OkesuError(code).message });
      close(t, 4001, code);
    },
    count: (): number => tunnels.size,
    /** Sends an `upgrade` order on the host's tunnel; false when it has no open tunnel. */
    sendUpgrade(hostname: string, frame: Extract<CpFrame, { type: 'upgrade' }>): boolean {
      const t = tunnels.get(hostname);
      if (!t || t.ws.readyState !== t.ws.OPEN) return false;
      send(t.ws, frame);
      return true;
    },
    start(): void {
      // One sweep for all tunnels: ping the quiet ones, terminate those silent for 3 intervals. A sweep that runs late
      // follows a blocked event loop: what peers sent meanwhile is still unread (timers run before I/O), so that
      // sweep judges nobody. Paused tunnels are silent because of the CP, not the peer.
      let lastSweep = deps.now();
      sweeper = setInterval(() => {
        const at = deps.now();
        const stalled = at - lastSweep > 2 * deps.heartbeatIntervalMs;
        lastSweep = at;
        const cutoff = at - 3 * deps.heartbeatIntervalMs;
        // Only a tunnel silent for a whole interval is pinged: heartbeats already prove the others alive, and at
        // 10,000 tunnels the pings were a third of the CP's socket writes.
        const quiet = at - deps.heartbeatIntervalMs;
        for (const t of tunnels.values()) {
          if (t.paused) continue;
          if (t.lastSeen < cutoff && !stalled) t.ws.terminate();
          else if (t.lastSeen < quiet) t.ws.ping();
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
