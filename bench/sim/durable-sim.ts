import type { ClientRequestArgs } from 'node:http';
import tls from 'node:tls';
import WebSocket, { type RawData } from 'ws';
import { LIMITS } from '../../src/protocol/limits.js';
import { newId } from '../../src/protocol/ids.js';
import type { BackoffSettings, FleetTarget } from './messages.js';
import type { HostIdentity } from '../lib/register-host.js';
import { TICK_START_SEQ, tickStartRecord } from '../lib/sim-daimon.js';

/** Reconnect policy: full-jitter exponential backoff (first delay ceiling `baseMs`, doubling per failed attempt up to `capMs`; a connection up for `resetMs` resets it; the window is at least the welcome's `reconnect_spread_ms`), as in `daimon/tunnel-client.ts`. */
export type BackoffPolicy = BackoffSettings;

/** The real daimon's defaults (`daimon/tunnel-client.ts`). */
export const DAIMON_BACKOFF: BackoffPolicy = { baseMs: 500, capMs: 60_000, resetMs: 30_000 };

/** What a simulated daimon needs to open its tunnel. */
/**
 * A simulated daimon that behaves like the real one across CP restarts: it reconnects with the daimon's backoff and
 * jitter, numbers its events (run_id, seq) in one daimon-started run, keeps each record until the CP acknowledges it
 * (the spool, in memory) and offers every unacknowledged record again after each reconnect (the sender's `onUp`).
 */
export class DurableSim {
  /** Whether the tunnel is up (welcome received, not closed since). */
  up = false;
  /** Welcomes received: 1 after the first connect, +1 per reconnect. */
  welcomes = 0;
  /** Connection attempts that ended before a welcome (refused, reset, timed out). */
  failedAttempts = 0;
  /** Welcomes on a resumed TLS session (the sim offers its last session ticket, as the daimon does). */
  resumed = 0;
  emitted = 0;
  /** Records sent again after a reconnect (duplicates the CP must not store twice). */
  resent = 0;
  /** Date.now() of the last welcome. */
  lastUpAt = 0;
  /** Date.now() when an up tunnel last closed. */
  lastDownAt = 0;
  /** Every welcome (Date.now()) and every close of an up tunnel ([Date.now(), close code]), for the timeline. */
  readonly upAt: number[] = [];
  readonly downAt: [number, number][] = [];
  readonly runId = newId('r');
  // The run opens with its tick start (the CP creates a run from events only for one), kept until acknowledged.
  private readonly outbox = new Map<number, string>([[TICK_START_SEQ, tickStartRecord(this.runId, 'bench-storm')]]);
  private readonly sentOnce = new Set<number>();
  private ws: WebSocket | undefined;
  private attempt = 0;
  private spreadMs = 0;
  private openedAt = 0;
  private lastHeard = 0;
  private beat: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;
  private heartbeatSeq = 0;
  private nextSeq = 0;
  private firstUp: (() => void) | undefined;
  // Parsing key, certificate and CA for every attempt costs the simulator ~1 ms of its event loop per connect, which at
  // thousands of reconnects makes the simulator, not the CP, the bottleneck. One context per sim, reused.
  private secureContext: tls.SecureContext | undefined;
  // The last TLS session ticket the CP sent, offered on the next connect (daimon/tunnel-client.ts does the same).
  private session: Buffer | undefined;

  constructor(
    private readonly id: HostIdentity,
    private readonly target: FleetTarget,
    private readonly localAddress: string,
    private readonly policy: BackoffPolicy,
  ) {}

  /** Records emitted and not yet acknowledged. */
  get pending(): number {
    return this.outbox.size;
  }

  /** Connects (retrying by the policy) and resolves at the first welcome. */
  start(): Promise<void> {
    const up = new Promise<void>((resolve) => (this.firstUp = resolve));
    this.connect();
    return up;
  }

  /** Emits one finding: kept until acknowledged, sent now when the tunnel is up. */
  emit(): void {
    const seq = this.nextSeq++;
    const ts = Date.now();
    const text =
      `{"run_id":"${this.runId}","seq":${seq},"event":{"type":"finding","ts":${ts},"agent":"bench-storm","severity":"low",` +
      `"category":"other","title":"storm finding","resource":"item:${seq}","dedup_key":"${this.id.hostname}-${seq}"}}`;
    this.outbox.set(seq, text);
    this.emitted++;
    if (this.up) this.send([[seq, text]]);
  }

  /** Stops reconnecting and drops the tunnel. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    clearInterval(this.beat);
    this.ws?.terminate();
  }

  private send(records: [number, string][]): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    for (let i = 0; i < records.length; i += LIMITS.recordsPerFrame) {
      const chunk = records.slice(i, i + LIMITS.recordsPerFrame);
      for (const [seq] of chunk) {
        if (this.sentOnce.has(seq)) this.resent++;
        else this.sentOnce.add(seq);
      }
      ws.send(`{"type":"events","records":[${chunk.map(([, text]) => text).join(',')}]}`);
    }
  }

  private connect(): void {
    this.retry = undefined;
    if (this.stopped) return;
    this.openedAt = 0;
    this.secureContext ??= tls.createSecureContext({ ca: this.id.ca, key: this.id.key, cert: this.id.cert });
    // ws hands its options to tls.connect, which takes a ready secure context; ws's own types do not list it.
    const offered = this.session;
    const options: WebSocket.ClientOptions & Pick<tls.ConnectionOptions, 'secureContext'> = {
      secureContext: this.secureContext, localAddress: this.localAddress,
      ...(offered && { session: offered }),
      // ws's TLS connect, keeping the session tickets the CP sends; ws types the hook as net's.
      createConnection: ((o: ClientRequestArgs) => {
        const s = tls.connect({ ...(o as tls.ConnectionOptions), path: undefined, servername: '' });
        s.on('session', (ticket: Buffer) => (this.session = ticket));
        return s;
      }) as unknown as WebSocket.ClientOptions['createConnection'],
      headers: { authorization: `Bearer ${this.id.credential}` },
      perMessageDeflate: false, maxPayload: LIMITS.tunnelFrameBytes + 64 * 1024, handshakeTimeout: 30_000,
    };
    this.attach(new WebSocket(`wss://${this.target.host}:${this.target.port}/v1/tunnel`, options));
  }

  /**
   * Takes over `ws`, a tunnel of this host another simulator opened and got its welcome on (with `welcome`'s heartbeat
   * interval and reconnect window, and `session`, the TLS session ticket it kept): from here the sim behaves as if it
   * had connected it itself (a shared fleet's tunnels becoming durable sims without reconnecting, `shared-fleet.ts`).
   */
  adopt(ws: WebSocket, welcome: { intervalMs: number; spreadMs: number }, session: Buffer | undefined): void {
    this.session = session;
    this.attach(ws);
    this.openedAt = this.lastHeard = Date.now();
    // The first beat jittered across one interval, as the tunnel's own were: 10,000 adopted at once must not beat in step.
    this.onWelcome(ws, welcome.intervalMs, welcome.spreadMs, Math.random() * welcome.intervalMs);
  }

  private attach(ws: WebSocket): void {
    this.ws = ws;
    // A refused upgrade (e.g. 503 while the CP starts): give up on this socket; 'close' follows and retries.
    ws.on('unexpected-response', () => {
      this.session = undefined;
      ws.terminate();
    });
    ws.on('upgrade', (res) => {
      if ((res.socket as tls.TLSSocket).isSessionReused()) this.resumed++;
    });
    ws.on('error', () => undefined);
    ws.on('open', () => {
      this.openedAt = this.lastHeard = Date.now();
      ws.send(JSON.stringify({ type: 'hello', protocol: 1, version: 'bench', os: 'linux', arch: 'x64', labels: {}, running: [this.runId], spool_depth: this.outbox.size }));
    });
    ws.on('message', (data: RawData) => {
      this.lastHeard = Date.now();
      this.onFrame(ws, JSON.parse(data.toString()) as { type?: string; [k: string]: unknown });
    });
    ws.on('close', (code: number) => {
      clearInterval(this.beat);
      if (this.up) {
        this.lastDownAt = Date.now();
        this.downAt.push([this.lastDownAt, code]);
      } else {
        this.failedAttempts++;
      }
      this.up = false;
      if (this.ws === ws) this.ws = undefined;
      this.scheduleReconnect();
    });
  }

  private onFrame(ws: WebSocket, frame: { type?: string; [k: string]: unknown }): void {
    switch (frame.type ?? '') {
      case 'welcome':
        this.onWelcome(ws, Number(frame['heartbeat_interval_ms']) || 5000, Number(frame['reconnect_spread_ms']) || 0);
        return;
      case 'ack':
        for (const r of frame['records'] as { run_id: string; seq: number }[]) if (r.run_id === this.runId) this.outbox.delete(r.seq);
        return;
      default:
        return;
    }
  }

  private onWelcome(ws: WebSocket, intervalMs: number, spreadMs: number, firstBeatMs = 0): void {
    this.spreadMs = spreadMs;
    this.up = true;
    this.welcomes++;
    this.lastUpAt = Date.now();
    this.upAt.push(this.lastUpAt);
    clearInterval(this.beat);
    const beat = (): void => {
      // The daimon's watchdog: a CP silent for 3 intervals is dropped.
      if (Date.now() - this.lastHeard > 3 * intervalMs) return ws.terminate();
      ws.send(JSON.stringify({ type: 'heartbeat', seq: ++this.heartbeatSeq, ts: Date.now(), running: 1, spool_depth: this.outbox.size }));
    };
    const every = (): void => void (this.beat = setInterval(beat, intervalMs));
    if (firstBeatMs > 0) this.beat = setTimeout(every, firstBeatMs);
    else every();
    // Everything not yet acknowledged goes again, oldest first: the CP stores each (run, seq) once.
    this.send([...this.outbox.entries()]);
    this.firstUp?.();
    this.firstUp = undefined;
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    if (this.openedAt > 0 && Date.now() - this.openedAt > this.policy.resetMs) this.attempt = 0;
    // As the daimon: the jitter spans at least the CP's fleet-sized reconnect window from its last welcome.
    const delay = Math.floor(Math.random() * Math.max(this.spreadMs, Math.min(this.policy.capMs, this.policy.baseMs * 2 ** Math.min(this.attempt, 30))));
    this.attempt++;
    this.retry = setTimeout(() => this.connect(), delay);
  }
}
