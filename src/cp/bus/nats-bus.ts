import { connect, headers, NoRespondersError, RequestError, TimeoutError, type Msg, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { busMessageSchemas, deliveryAnswerSchema, hostDeliverySchema } from './bus-schemas.js';
import type { CpBus, CpMessages, DeliveryAnswer, HostDelivery } from './cp-bus.js';
import { deliverHere } from './local-bus.js';
import { createTopicFanout } from './topic-fanout.js';
import { createBusSigner, SIGNATURE_HEADER } from './bus-signature.js';

/** How to reach the cluster's NATS server, which cluster this replica is part of, and who it is. */
export interface NatsBusOptions {
  /** `nats://host:port` (several comma-separated servers are tried in turn). */
  url: string;
  /** The cluster's name: replicas with the same name on the same NATS server are one CP. */
  cluster: string;
  replicaId: string;
  log: Logger;
  /**
   * The secret every message is signed with (`busSecretFrom(cluster key)`): a message, request or reply that does not
   * verify is dropped. Every replica of a cluster must be given the same.
   */
  secret: Buffer;
  /** Base wait between reconnect attempts (ms, default 500); a random jitter of up to as much again is added. */
  reconnectWaitMs?: number;
}

/** The header naming the replica that published a message or sent a delivery request. */
export const ORIGIN_HEADER = 'Okesu-Origin';
// Past the store's 5 s lock timeout: the holding replica may be waiting for the writer lock when the request comes.
const DEFAULT_DELIVER_TIMEOUT_MS = 10_000;
// Subject tokens: no dots, spaces or wildcards, so `okesu.<cluster>.…` cannot be widened or confused.
const TOKEN_RE = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Opens the NATS bus of one replica: local subscribers get every message synchronously as on the local bus (this
 * replica's own publishes delivered here, once), and each topic also goes to every other replica of the cluster on
 * core NATS subject `okesu.<cluster>.<topic>`, with the origin replica in a header. Received messages are validated;
 * a malformed one is logged and dropped. `deliver` is a NATS request to `okesu.<cluster>.replica.<id>.deliver`.
 * Reconnects forever (jittered wait); rejects with an error naming the URL when the server cannot be reached at first.
 */
export async function createNatsBus(opts: NatsBusOptions): Promise<CpBus> {
  const { url, cluster, replicaId } = opts;
  for (const [what, value] of [['cluster name', cluster], ['replica id', replicaId]] as const) {
    if (!TOKEN_RE.test(value)) throw new Error(`the bus ${what} must be 1-64 of A-Z a-z 0-9 _ -, got ${JSON.stringify(value)}`);
  }
  const log = opts.log.child({ bus: 'nats', cluster, replica: replicaId });
  const wait = opts.reconnectWaitMs ?? 500;
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: url.split(',').map((s) => s.trim()),
      name: `okesu-cp ${cluster}/${replicaId}`,
      noEcho: true, // our own publishes are delivered locally, never again from the server
      maxReconnectAttempts: -1,
      reconnectTimeWait: wait,
      reconnectJitter: wait,
      timeout: 5000,
      // Notice a silent server (a partition, not a closed socket) within ~15 s, for `connected()`.
      pingInterval: 5000,
      maxPingOut: 3,
    });
  } catch (err) {
    throw new Error(`cannot connect to the NATS server at ${url}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  log.info({ server: nc.getServer() }, 'bus connected');

  const prefix = `okesu.${cluster}`;
  const fanout = createTopicFanout(log);
  const signer = createBusSigner(opts.secret);
  /** Headers of a message this replica sends on `subject`: its origin and its signature. */
  const signedHeaders = (subject: string, data: Uint8Array): MsgHdrs => {
    const h = headers();
    h.set(ORIGIN_HEADER, replicaId);
    h.set(SIGNATURE_HEADER, signer.sign(subject, replicaId, data));
    return h;
  };
  /** The origin of a received message whose signature verifies, else undefined (logged, dropped). */
  const verifiedOrigin = (subject: string, msg: Msg, what: string): string | undefined => {
    const origin = msg.headers?.get(ORIGIN_HEADER);
    if (origin && TOKEN_RE.test(origin) && signer.verify(subject, origin, msg.data, msg.headers?.get(SIGNATURE_HEADER))) return origin;
    log.warn({ subject, origin, bytes: msg.data.length }, `bus dropped ${what} that is not signed with this cluster's key`);
    return undefined;
  };
  const replySubject = (requestSubject: string): string => `${requestSubject}#reply`;
  let up = true;
  let deliveryHandler: ((delivery: HostDelivery) => Promise<DeliveryAnswer>) | undefined;

  void watchStatus(nc, log, (state) => (up = state));

  for (const topic of Object.keys(busMessageSchemas) as Array<keyof CpMessages>) {
    nc.subscribe(`${prefix}.${topic}`, {
      callback: (err, msg) => {
        if (err) log.warn({ err, topic }, 'bus subscription failed');
        else receive(topic, msg);
      },
    });
  }

  // Served from the start (before `onDelivery`, requests are answered "serves no deliveries yet").
  nc.subscribe(`${prefix}.replica.${replicaId}.deliver`, {
    callback: (err, msg) => {
      if (err) log.warn({ err }, 'bus delivery subscription failed');
      else void serveDelivery(msg);
    },
  });
  // Once this resolves, the server has our subscriptions: another replica's next publish reaches us.
  try {
    await nc.flush();
  } catch (err) {
    await nc.close();
    throw new Error(`the NATS server at ${url} went away while the bus was opening: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }

  function receive<K extends keyof CpMessages>(topic: K, msg: Msg): void {
    if (msg.headers?.get(ORIGIN_HEADER) === replicaId) return;
    const origin = verifiedOrigin(`${prefix}.${topic}`, msg, 'a message');
    if (origin === undefined) return;
    const data = parseJson(msg);
    const parsed = busMessageSchemas[topic].safeParse(data);
    if (!origin || !TOKEN_RE.test(origin) || !parsed.success) {
      log.warn({ topic, origin, issues: parsed.error?.issues.slice(0, 5), bytes: msg.data.length }, 'bus dropped a malformed message');
      return;
    }
    fanout.emit(topic, parsed.data, origin);
  }

  async function serveDelivery(msg: Msg): Promise<void> {
    const subject = `${prefix}.replica.${replicaId}.deliver`;
    // An unsigned request gets no answer at all: the asker learns nothing, and times out.
    if (verifiedOrigin(subject, msg, 'a delivery request') === undefined) return;
    const parsed = hostDeliverySchema.safeParse(parseJson(msg));
    let answer: DeliveryAnswer;
    if (parsed.success) {
      answer = await deliverHere(replicaId, deliveryHandler, parsed.data);
    } else {
      log.warn({ origin: msg.headers?.get(ORIGIN_HEADER), issues: parsed.error.issues.slice(0, 5) }, 'bus dropped a malformed delivery request');
      answer = { delivered: false, error: 'malformed delivery request' };
    }
    try {
      const data = new TextEncoder().encode(JSON.stringify(answer));
      msg.respond(data, { headers: signedHeaders(replySubject(subject), data) });
    } catch (err) {
      log.warn({ err }, 'bus could not answer a delivery request');
    }
  }

  return {
    replicaId,
    publish(topic, message) {
      fanout.emit(topic, message, replicaId);
      try {
        const subject = `${prefix}.${topic}`;
        const data = new TextEncoder().encode(JSON.stringify(message));
        nc.publish(subject, data, { headers: signedHeaders(subject, data) });
      } catch (err) {
        // Closed (or draining): the other replicas miss it, and read the store when they see the gap.
        log.warn({ err, topic }, 'bus could not publish to the other replicas');
      }
    },
    subscribe: (topic, handler) => fanout.subscribe(topic, handler),
    async deliver(replica, delivery, timeoutMs = DEFAULT_DELIVER_TIMEOUT_MS) {
      if (replica === replicaId) return deliverHere(replicaId, deliveryHandler, delivery);
      if (!TOKEN_RE.test(replica)) return { delivered: false, error: `not a replica id: ${JSON.stringify(replica)}` };
      try {
        const subject = `${prefix}.replica.${replica}.deliver`;
        const data = new TextEncoder().encode(JSON.stringify(delivery));
        const reply = await nc.request(subject, data, { timeout: timeoutMs, headers: signedHeaders(subject, data) });
        if (verifiedOrigin(replySubject(subject), reply, 'a delivery answer') === undefined) return { delivered: false, error: `replica ${replica} answered without a valid signature` };
        const answer = deliveryAnswerSchema.safeParse(parseJson(reply));
        return answer.success ? answer.data : { delivered: false, error: `replica ${replica} answered with a malformed message` };
      } catch (err) {
        return { delivered: false, error: describeRequestError(replica, err, timeoutMs) };
      }
    },
    onDelivery(handler) {
      if (deliveryHandler) throw new Error('the bus delivery handler is already set');
      deliveryHandler = handler;
    },
    connected: () => up && !nc.isClosed(),
    async close() {
      fanout.clear();
      if (nc.isClosed()) return;
      // Drain sends what is buffered and lets in-flight deliveries answer; a disconnected client just closes.
      if (up && !nc.isDraining()) await nc.drain().catch(() => nc.close());
      else await nc.close();
      up = false;
    },
  };
}

function parseJson(msg: Msg): unknown {
  try {
    return msg.json();
  } catch {
    return undefined;
  }
}

function describeRequestError(replica: string, err: unknown, timeoutMs: number): string {
  if (err instanceof NoRespondersError || (err instanceof RequestError && err.isNoResponders())) return `replica ${replica} is not on the bus`;
  if (err instanceof TimeoutError || (err instanceof Error && err.cause instanceof TimeoutError)) return `replica ${replica} did not answer within ${timeoutMs} ms`;
  return `replica ${replica} could not be asked: ${err instanceof Error ? err.message : String(err)}`;
}

/** Follows the connection's status for `connected()` and the log; ends when the connection closes. */
async function watchStatus(nc: NatsConnection, log: Logger, setUp: (up: boolean) => void): Promise<void> {
  try {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        setUp(false);
        log.warn({ server: s.server }, 'bus disconnected; reconnecting');
      } else if (s.type === 'reconnect') {
        setUp(true);
        log.info({ server: s.server }, 'bus reconnected');
      } else if (s.type === 'error') {
        log.warn({ err: s.error }, 'bus server error');
      } else if (s.type === 'close') {
        setUp(false);
      }
    }
  } catch (err) {
    log.warn({ err }, 'bus status stream ended');
  }
  setUp(false);
}
