import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { pino, type Logger } from 'pino';
import WebSocket from 'ws';
import type { RawData } from 'ws';
import { parse as parseYaml } from 'yaml';
import { createControlPlane, type ControlPlane, type ControlPlaneOptions } from '../../src/cp/cp-server.js';
import { clientConfigSchema, type ClientConfig } from '../../src/protocol/client-config.js';
import { createOperatorClient, type CreatedToken, type OperatorClient } from '../../src/transport/operator-client.js';
import { generateHostKeyAndCsr } from '../../src/pki/host-key.js';
import { registerResponseSchema, type Role } from '../../src/protocol/api.js';
import { newId } from '../../src/protocol/ids.js';
import type { EventRecord } from '../../src/protocol/tunnel.js';

/** Heartbeat interval the harness CP tells daimons: small, so stale/offline happen within a test. */
export const HEARTBEAT_MS = 200;

/** Polls `fn` until it returns a truthy value (which it returns) or throws after `timeoutMs` with the last failure. */
export async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs = 5000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value as NonNullable<T>;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? `: ${last.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
}

/** A JSON message received on a test WebSocket. */
export type Frame = Record<string, unknown> & { type?: string };

/** A client WebSocket that records every message and its close, for assertions. */
export class TestSocket {
  readonly frames: Frame[] = [];
  readonly raw: string[] = [];
  closeInfo: { code: number; reason: string } | undefined;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: RawData) => {
      const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString('utf8');
      this.raw.push(text);
      try {
        this.frames.push(JSON.parse(text) as Frame);
      } catch {
        this.frames.push({ type: '(not json)', text });
      }
    });
    ws.on('close', (code, reason) => {
      this.closeInfo = { code, reason: reason.toString('utf8') };
    });
  }

  /** Sends a value as JSON text. */
  send(value: unknown): void {
    this.ws.send(JSON.stringify(value));
  }

  /** Waits for the first recorded frame (at index `from` or later) matching `pred`. */
  next(pred: (f: Frame) => boolean, opts: { timeoutMs?: number; from?: number } = {}): Promise<Frame> {
    return waitFor(() => this.frames.slice(opts.from ?? 0).find(pred), opts.timeoutMs ?? 5000, 'a matching frame');
  }

  /** Waits for a frame of `type`. */
  nextOfType(type: string, opts: { timeoutMs?: number; from?: number } = {}): Promise<Frame> {
    return this.next((f) => f.type === type, opts);
  }

  /** Waits (bounded) for the socket to close; its code and reason. */
  waitClosed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    return waitFor(() => this.closeInfo, timeoutMs, 'the socket to close');
  }

  /** Every frame of `type` received so far. */
  ofType(type: string): Frame[] {
    return this.frames.filter((f) => f.type === type);
  }

  /** True while the socket is open. */
  isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Closes at once (no close handshake). */
  terminate(): void {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
  }
}

/** An upgrade the CP refused: HTTP status and the parsed error body. */
export interface Refusal {
  status: number;
  body: { error?: { code?: string; message?: string } } | undefined;
}

/** Outcome of opening a WebSocket: the open socket, or the CP's refusal. */
export type OpenResult = { ok: true; socket: TestSocket } | { ok: false; refusal: Refusal };

/** What a registered host holds after `/v1/register`. */
export interface HostIdentity {
  hostname: string;
  key: string;
  cert: string;
  credential: string;
  ca: string;
}

/** Overrides for `openTunnel`: a different key/cert/CA, a different or no credential (`null`). */
export interface TunnelOverrides {
  key?: string | null;
  cert?: string | null;
  ca?: string;
  credential?: string | null;
}

/** An HTTP answer read raw: status, text and (when JSON) the parsed body. */
export interface RawAnswer {
  status: number;
  text: string;
  body: unknown;
}

/** Options for `request`: a token (null for none; default the admin's), a JSON body or raw bytes. */
export interface RequestOptions {
  token?: string | null;
  json?: unknown;
  raw?: string | Buffer;
}

/** Reads and validates `admin.yaml` from a CP state dir. */
export function readAdminConfig(stateDir: string): ClientConfig {
  return clientConfigSchema.parse(parseYaml(readFileSync(join(stateDir, 'admin.yaml'), 'utf8')));
}

/** Starts a CP on 127.0.0.1:0 with a fresh state dir (or `stateDir`) and silent logs. */
export async function startCp(opts: { stateDir?: string; options?: Partial<ControlPlaneOptions>; log?: Logger; now?: () => number } = {}): Promise<CpHarness> {
  const deps = { log: opts.log ?? pino({ level: 'silent' }), ...(opts.now && { now: opts.now }) };
  const h = new CpHarness(opts.stateDir ?? mkdtempSync(join(tmpdir(), 'okesu-cp-test-')), opts.options ?? {}, deps);
  await h.boot();
  return h;
}

/** A control plane on loopback with a temp state dir, its admin client and helpers to act as daimons and operators. */
export class CpHarness {
  cp!: ControlPlane;
  port = 0;
  url = '';
  adminConfig!: ClientConfig;
  admin!: OperatorClient;
  /** The CA certificate PEM, as admin.yaml carries it. */
  caPem = '';
  private readonly sockets = new Set<WebSocket>();

  constructor(
    readonly stateDir: string,
    private readonly options: Partial<ControlPlaneOptions>,
    /** The CP's logger and clock (default: silent, Date.now); keep `now` and `options.clock` the same clock. */
    private readonly deps: { log: Logger; now?: () => number } = { log: pino({ level: 'silent' }) },
  ) {}

  /** Builds and starts a CP on the state dir; reads admin.yaml. */
  async boot(): Promise<void> {
    this.cp = createControlPlane(
      { stateDir: this.stateDir, host: '127.0.0.1', port: 0, heartbeatIntervalMs: HEARTBEAT_MS, livenessFlushMs: 50, version: 'test', ...this.options },
      this.deps,
    );
    const { url, port } = await this.cp.start();
    this.url = url;
    this.port = port;
    this.adminConfig = readAdminConfig(this.stateDir);
    this.admin = createOperatorClient(this.adminConfig);
    this.caPem = this.adminConfig.ca;
  }

  /** Stops the CP and starts a new one on the same state dir (a new port); re-reads admin.yaml. */
  async restart(): Promise<void> {
    await this.cp.stop();
    await this.boot();
  }

  /** Closes every socket, stops the CP and removes the state dir. */
  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.sockets.clear();
    await this.cp.stop();
    rmSync(this.stateDir, { recursive: true, force: true });
  }

  /** An operator client for another token. */
  client(token: string): OperatorClient {
    return createOperatorClient({ ...this.adminConfig, token });
  }

  /** A raw HTTPS request to the CP (the admin's token unless `token` says otherwise). */
  request(method: string, path: string, opts: RequestOptions = {}): Promise<RawAnswer> {
    const token = opts.token === undefined ? this.adminConfig.token : opts.token;
    const payload = opts.raw ?? (opts.json === undefined ? undefined : JSON.stringify(opts.json));
    const headers: Record<string, string | number> = {};
    if (token) headers['authorization'] = `Bearer ${token}`;
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    return new Promise((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port: this.port, path, method, headers, ca: this.caPem, agent: false }, (res) => {
        readAll(res).then((text) => resolve({ status: res.statusCode ?? 0, text, body: parseJson(text) }), reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Creates a join token through the admin API. */
  mintJoin(opts: { ttl_ms?: number; uses?: number; name?: string } = {}): Promise<CreatedToken> {
    return this.admin.createToken({ kind: 'join', ...opts });
  }

  /** Creates an operator token through the admin API. */
  mintOperator(role: Role, name = `${role}-token`): Promise<CreatedToken> {
    return this.admin.createToken({ kind: 'operator', role, name });
  }

  /** POST /v1/register as a joining daimon does (fresh key and CSR unless `csrPem`); returns the raw answer and the key. */
  async register(hostname: string, token: string, csrPem?: string): Promise<RawAnswer & { keyPem: string }> {
    const generated = await generateHostKeyAndCsr(hostname);
    const answer = await this.request('POST', '/v1/register', {
      token: null,
      json: { token, csr: csrPem ?? generated.csrPem, hostname, os: 'linux', arch: 'x64', version: 'test' },
    });
    return { ...answer, keyPem: generated.keyPem };
  }

  /** The real join flow: key + CSR, register with a fresh (or the given) join token; throws unless 201. */
  async registerHost(hostname: string, opts: { token?: string } = {}): Promise<HostIdentity> {
    const token = opts.token ?? (await this.mintJoin()).token;
    const answer = await this.register(hostname, token);
    if (answer.status !== 201) throw new Error(`register ${hostname}: HTTP ${answer.status} ${answer.text}`);
    const res = registerResponseSchema.parse(answer.body);
    return { hostname: res.hostname, key: answer.keyPem, cert: res.certificate, credential: res.credential, ca: res.ca };
  }

  /** Opens `wss://…/v1/tunnel` with the identity's mTLS material and credential, or the overrides. */
  openTunnel(identity: HostIdentity, o: TunnelOverrides = {}): Promise<OpenResult> {
    const credential = o.credential === undefined ? identity.credential : o.credential;
    const key = o.key === undefined ? identity.key : o.key;
    const cert = o.cert === undefined ? identity.cert : o.cert;
    return this.openWs('/v1/tunnel', {
      ca: o.ca ?? identity.ca,
      ...(key ? { key } : {}),
      ...(cert ? { cert } : {}),
      headers: credential ? { authorization: `Bearer ${credential}` } : {},
      maxPayload: 64 * 1024 * 1024,
    });
  }

  /** Opens a tunnel that must be accepted, waits for `welcome` and (unless told not to) sends `hello`. */
  async connectHost(identity: HostIdentity, opts: { hello?: boolean } = {}): Promise<TestSocket> {
    const result = await this.openTunnel(identity);
    if (!result.ok) throw new Error(`tunnel of ${identity.hostname} refused: ${JSON.stringify(result.refusal)}`);
    await result.socket.nextOfType('welcome');
    if (opts.hello !== false) result.socket.send(hello());
    return result.socket;
  }

  /** Opens `wss://…/v1/stream?query` with a token (default the admin's; null for none). */
  openStream(query: Record<string, string | number> = {}, token: string | null = this.adminConfig.token): Promise<OpenResult> {
    const qs = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString();
    return this.openWs(`/v1/stream${qs ? `?${qs}` : ''}`, { ca: this.caPem, headers: token ? { authorization: `Bearer ${token}` } : {} });
  }

  private openWs(path: string, wsOpts: WebSocket.ClientOptions): Promise<OpenResult> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`wss://127.0.0.1:${this.port}${path}`, { ...wsOpts, handshakeTimeout: 5000 });
      this.sockets.add(ws);
      ws.on('close', () => this.sockets.delete(ws));
      const socket = new TestSocket(ws);
      let settled = false;
      ws.on('open', () => {
        settled = true;
        resolve({ ok: true, socket });
      });
      ws.on('unexpected-response', (_req, res: IncomingMessage) => {
        settled = true;
        readAll(res).then(
          (text) => {
            ws.terminate();
            resolve({ ok: false, refusal: { status: res.statusCode ?? 0, body: parseJson(text) as Refusal['body'] } });
          },
          (err: unknown) => reject(err as Error),
        );
      });
      ws.on('error', (err) => {
        if (!settled) {
          settled = true;
          reject(err);
        }
      });
    });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

/** The error code of a JSON error body (or of a refusal). */
export function errorCode(body: unknown): string | undefined {
  return (body as { error?: { code?: string } } | undefined)?.error?.code;
}

/** The error message of a JSON error body. */
export function errorMessage(body: unknown): string {
  return (body as { error?: { message?: string } } | undefined)?.error?.message ?? '';
}

/** A valid `hello` frame. */
export function hello(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'hello', protocol: 1, version: 'test-daimon', os: 'linux', arch: 'x64', labels: {}, running: [], spool_depth: 0, ...over };
}

/** A valid `heartbeat` frame. */
export function heartbeat(seq: number): Record<string, unknown> {
  return { type: 'heartbeat', seq, ts: Date.now(), running: 0, spool_depth: 0 };
}

/** A fresh run id. */
export function runId(): string {
  return newId('r');
}

/** One event record for `events` frames. */
export function record(run: string, seq: number, body: Record<string, unknown> & { type: string }, agent = 'edr'): EventRecord {
  return { run_id: run, seq, event: { ts: Date.now(), agent, ...body } };
}

/** A finding event record with overridable fields. */
export function findingRecord(run: string, seq: number, fields: Record<string, unknown> = {}): EventRecord {
  return record(run, seq, { type: 'finding', severity: 'HIGH', title: `Finding ${seq}`, category: 'process', resource: `binary:/usr/bin/x${seq}`, ...fields });
}

/** Sends records on a tunnel and waits for the `ack` that lists exactly their keys. */
export async function sendEvents(tunnel: TestSocket, records: readonly EventRecord[]): Promise<Frame> {
  const from = tunnel.frames.length;
  const wanted = JSON.stringify(records.map((r) => ({ run_id: r.run_id, seq: r.seq })));
  tunnel.send({ type: 'events', records });
  return tunnel.next((f) => f.type === 'ack' && JSON.stringify(f['records']) === wanted, { from });
}

/** The run_start a daimon's scheduled tick opens its run with: the only event from which the CP creates a run itself. */
export function tickStart(run: string, seq = 0, agent = 'edr'): EventRecord {
  return record(run, seq, { type: 'run_start', trigger: 'tick' }, agent);
}

/** `records`, each run's first one preceded by its tick start (seq 0): events of runs the daimon started itself. */
export function asTicks(records: readonly EventRecord[]): EventRecord[] {
  const seen = new Set<string>();
  return records.flatMap((r) => {
    if (seen.has(r.run_id)) return [r];
    seen.add(r.run_id);
    return [tickStart(r.run_id, 0, r.event.agent), r];
  });
}
