import WebSocket, { type RawData } from 'ws';
import { LIMITS } from '../../src/protocol/limits.js';
import type { HostIdentity } from './register-host.js';

/** How a streaming client learns that records were taken: from one incoming message, how many. */
export type AckCounter = (data: RawData) => number;

/** A simulated daimon's tunnel: a real mTLS WebSocket carrying the real protocol. */
export interface SimTunnel {
  ws: WebSocket;
  /** The heartbeat interval the server's `welcome` asked for (0 when there was none, e.g. the echo ceiling). */
  heartbeatMs: number;
  close(): void;
}

/** Opens `wss://127.0.0.1:PORT/PATH` with the identity's key, certificate and credential, exactly as the daimon does. */
export function openTunnel(port: number, identity: HostIdentity, path = '/v1/tunnel'): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${port}${path}`, {
      ca: identity.ca, key: identity.key, cert: identity.cert,
      headers: { authorization: `Bearer ${identity.credential}` },
      perMessageDeflate: false, maxPayload: LIMITS.tunnelFrameBytes + 64 * 1024, handshakeTimeout: 30_000,
    });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`tunnel of ${identity.hostname} refused: HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** Opens a CP tunnel, waits for `welcome`, sends `hello` and heartbeats at the interval the CP asked for. */
export async function connectDaimon(port: number, identity: HostIdentity): Promise<SimTunnel> {
  const ws = await openTunnel(port, identity);
  const welcome = await new Promise<{ heartbeat_interval_ms: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no welcome for ${identity.hostname}`)), 30_000);
    ws.once('message', (data: RawData) => {
      clearTimeout(timer);
      const frame = JSON.parse(data.toString()) as { type?: string; heartbeat_interval_ms?: number };
      if (frame.type !== 'welcome') reject(new Error(`expected welcome, got ${frame.type}`));
      else resolve({ heartbeat_interval_ms: frame.heartbeat_interval_ms ?? 5000 });
    });
  });
  ws.send(JSON.stringify({ type: 'hello', protocol: 1, version: 'bench', os: 'linux', arch: 'x64', labels: {}, running: [], spool_depth: 0 }));
  let seq = 0;
  const timer = setInterval(() => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'heartbeat', seq: seq++, ts: Date.now(), running: 1, spool_depth: 0 }));
  }, welcome.heartbeat_interval_ms);
  ws.on('close', () => clearInterval(timer));
  return {
    ws, heartbeatMs: welcome.heartbeat_interval_ms,
    close() {
      clearInterval(timer);
      ws.terminate();
    },
  };
}

/**
 * Seq of the `run_start` (trigger: tick) a simulated daimon opens its run with: the CP creates a run from events only
 * for a tick's start. Out of the findings' range, and not counted as one of them.
 */
export const TICK_START_SEQ = Number.MAX_SAFE_INTEGER;

/** The tick start of `runId` as record JSON text. */
export function tickStartRecord(runId: string, agent: string): string {
  return `{"run_id":"${runId}","seq":${TICK_START_SEQ},"event":{"ts":${Date.now()},"agent":"${agent}","type":"run_start","trigger":"tick"}}`;
}

/** Counts the finding records an `ack` frame from the CP acknowledges (other frames, and tick starts, count 0). */
export const countCpAcks: AckCounter = (data) => {
  const frame = JSON.parse(data.toString()) as { type?: string; records?: { seq?: number }[] };
  return frame.type === 'ack' ? (frame.records ?? []).filter((r) => r.seq !== TICK_START_SEQ).length : 0;
};

/** Builds finding records as JSON text, cheaply (string templates, no per-record JSON.stringify): the client must not be the bottleneck. */
export function findingFrameBuilder(runId: string, perFrame: number): (firstSeq: number) => string {
  const head = `{"run_id":"${runId}","seq":`;
  return (firstSeq) => {
    const ts = Date.now();
    const parts: string[] = [];
    for (let seq = firstSeq; seq < firstSeq + perFrame; seq++) {
      parts.push(
        `${head}${seq},"event":{"ts":${ts},"agent":"bench-edr","type":"finding","severity":"${SEVS[seq % SEVS.length]}",` +
          `"title":"Suspicious process ${seq % 50}","category":"process","resource":"binary:/usr/bin/tool${seq}",` +
          `"evidence":["pid ${seq} parent 1 user root","cmdline /usr/bin/tool${seq} --listen 0.0.0.0:4444"],"tags":["bench"]}}`,
      );
    }
    // The first frame opens the run, as a ticking daimon's does.
    if (firstSeq === 0) parts.unshift(tickStartRecord(runId, 'bench-edr'));
    return `{"type":"events","records":[${parts.join(',')}]}`;
  };
}
const SEVS = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO'];

/** A client that keeps at most `maxInFlight` records un-acknowledged (like the daimon's sender) and counts acks. */
export class Streamer {
  acked = 0;
  sent = 0;
  /** Set when the server closed the socket; records then in flight are never acknowledged (a real daimon would resend). */
  closedWith: { code: number; inFlight: number } | undefined;
  private nextSeq = 0;
  private running = false;
  private idle: (() => void) | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly build: (firstSeq: number) => string,
    private readonly perFrame: number,
    private readonly maxInFlight: number,
    count: AckCounter,
  ) {
    ws.on('message', (data: RawData) => {
      const n = count(data);
      if (n === 0) return;
      this.acked += n;
      this.pump();
      if (this.inFlight() === 0) this.idle?.();
    });
    ws.on('close', (code: number) => {
      this.closedWith ??= { code, inFlight: this.inFlight() };
      this.idle?.();
    });
  }

  /** Records sent and not yet acknowledged. */
  inFlight(): number {
    return this.sent - this.acked;
  }

  /** Starts sending. */
  start(): void {
    this.running = true;
    this.pump();
  }

  /** Stops sending and resolves once every sent record was acknowledged or the socket closed (rejects after `timeoutMs`). */
  drain(timeoutMs = 300_000): Promise<void> {
    this.running = false;
    if (this.inFlight() === 0 || this.closedWith) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.inFlight()} records still un-acknowledged after ${timeoutMs} ms`)), timeoutMs);
      this.idle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private pump(): void {
    while (this.running && this.inFlight() + this.perFrame <= this.maxInFlight && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(this.build(this.nextSeq));
      this.nextSeq += this.perFrame;
      this.sent += this.perFrame;
    }
  }
}
