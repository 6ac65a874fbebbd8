import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { openStore, type Store } from './store/store.js';
import { loadOrCreateIdentity, ensureAdminToken, writeAdminConfig, assertStateComplete, type CpIdentity } from './cp-state.js';
import { acquireStateLock } from './store/state-lock.js';
import { createRouter } from './http/router.js';
import { createOperatorAuth } from './http/operator-auth.js';
import { createLiveness } from './liveness.js';
import { createIngestQueue } from './ingest-queue.js';
import { createStreamHub } from './stream/stream-hub.js';
import { createTunnelHub } from './tunnel/tunnel-hub.js';
import { createDispatcher } from './dispatcher.js';
import { createRunWaiters } from './run-waiters.js';
import { addFleetRoutes } from './api/fleet-routes.js';
import { addRunRoutes } from './api/run-routes.js';
import { addAdminRoutes } from './api/admin-routes.js';
import { addOrchestrationRoutes } from './api/orchestration-routes.js';
import { addFindingRoutes } from './api/finding-routes.js';
import { addDeployRoutes } from './api/deploy-routes.js';
import { createAgentLibrary } from './agent-library.js';
import { refuseUpgrade } from './http/refuse-upgrade.js';
import { realClock, type CpClock } from './orchestration/clock.js';
import { createOrchestrationEngine } from './orchestration/engine.js';
import { createTriggers } from './orchestration/triggers.js';
import { OkesuError } from '../errors.js';
import { createAuthFailures, type AuthFailureSnapshot, type AuthLimitOptions } from './http/auth-failures.js';
import { createOperatorSessions, type OperatorSessions } from './http/operator-sessions.js';
import { createCertRenewal } from './tunnel/cert-renewal.js';
import { DEFAULT_HOST_CERT_TTL_MS } from './registration.js';
import { loadTicketKeys, rotateTicketKeys, TICKET_KEY_PERIOD_MS } from './tls-tickets.js';
import type { Bucket, BucketLocation } from '../transport/bucket/bucket.js';
import { openS3Bucket } from '../transport/bucket/open-s3-bucket.js';
import { probeConditionalWrites } from '../transport/bucket/probe-conditional-writes.js';
import { bucketLayout } from '../protocol/bucket-layout.js';
import { createJobsMode, type JobsMode } from './jobs/jobs-mode.js';
import type { BucketScanner } from './jobs/bucket-scanner.js';
import { addReleaseRoutes } from './api/release-routes.js';
import { createReleaseStore } from './releases/create-release-store.js';
import type { ReleaseStore } from './releases/release-store.js';
import { createRollouts } from './rollouts/rollout-engine.js';
import type { Rollouts } from './rollouts/rollouts.js';
import { createUpgradeDelivery } from './rollouts/upgrade-delivery.js';
import type { UpgradeReport } from '../protocol/rollout.js';
import { addRolloutRoutes } from './api/rollout-routes.js';

/** Longest a request may take to arrive whole: a release upload over a slow link (Node's default is 5 min). */
const RELEASE_UPLOAD_TIMEOUT_MS = 30 * 60_000;

/** Accept backlog of the CP's port; the kernel caps it at net.core.somaxconn. */
const LISTEN_BACKLOG = 4096;

/** How to run a control plane. */
export interface ControlPlaneOptions {
  stateDir: string;
  host: string;
  port: number;
  /** Heartbeat interval told to daimons at connect (default 5 s). */
  heartbeatIntervalMs?: number;
  /** Tunnel handshakes per second daimons are paced to after a CP restart (default 150). */
  reconnectRatePerS?: number;
  /** How often "last heard" is flushed to the store (default 1 s). */
  livenessFlushMs?: number;
  /** Extra names for the server certificate. */
  sans?: string[];
  /** URL written into admin.yaml; default https://<listen host or 127.0.0.1>:<port>. */
  advertiseUrl?: string;
  /** Agent definitions the CP sends with dispatches, by name (default: looked up in `agentLibrary`). */
  resolveDefinition?: (agent: string) => string | undefined;
  /** Every agent definition the CP can send, name → file text, read on each `GET /v1/agents` (default none). */
  agentLibrary?: () => ReadonlyMap<string, string>;
  /** Time and timers of the orchestration schedules (cron triggers); default the real clock. Tests inject a manual one. */
  clock?: CpClock;
  version: string;
  /** Per-address budget of failed authentications (default DEFAULT_AUTH_LIMIT; `burst: 0` turns limiting off). */
  authLimit?: Partial<AuthLimitOptions>;
  /** Lifetime of the client certificates the CP issues and renews (default 365 days). */
  hostCertTtlMs?: number;
  /** The jobs bucket (`--bucket s3://…`): hosts that use it are dispatched to and heard through it (SPEC §3.2). */
  bucket?: BucketLocation;
  /** An already open bucket to use instead of opening `bucket` (tests, embedded use); its prefix is `bucket.prefix` or ''. */
  bucketStore?: Bucket;
  /** Time between two scans of the bucket (default 5 s). */
  bucketScanMs?: number;
  /** Keys per LIST page of the bucket scanner (default 1000, S3's maximum); tests make it small to page cheaply. */
  bucketListPageSize?: number;
  /** Release public keys (`ed25519:…`, `cp serve --release-key`): uploads must be signed by one; registering hosts learn them. */
  releaseKeys?: readonly string[];
  /** How many releases the CP keeps (`cp serve --keep-releases`; default DEFAULT_KEEP_RELEASES). */
  keepReleases?: number;
  /** Rollout timing for tests: the no-report margin beyond the health timeout (default 10 min) and its sweep (5 s). */
  rolloutTiming?: { downloadMarginMs?: number; sweepMs?: number };
}

/** A running control plane. */
export interface ControlPlane {
  start(): Promise<{ url: string; port: number }>;
  stop(): Promise<void>;
  /** The store, for tests and embedded use (demo). */
  store(): Store;
  /** Failed authentications so far, by kind and code, and the refusals (for tests and `/metrics`). */
  authFailures(): AuthFailureSnapshot;
  /** Live operator connections (streams, long polls) across all tokens (for tests and `/metrics`). */
  operatorConnections(): number;
  /** The bucket scanner when a bucket is configured (for tests and `/metrics`). */
  bucketScanner(): BucketScanner | undefined;
}

/** Builds a control plane: the store, the tunnel hub, the operator API and the live stream on one HTTPS port. */
export function createControlPlane(options: ControlPlaneOptions, deps: { log: Logger; now?: () => number }): ControlPlane {
  const now = deps.now ?? Date.now;
  const log = deps.log;
  let store: Store | undefined;
  let stopAll: (() => Promise<void>) | undefined;
  const authFailures = createAuthFailures(options.authLimit ?? {}, { log: log.child({ component: 'auth' }), now });
  let liveSessions: OperatorSessions | undefined;
  let jobs: JobsMode | undefined;
  const library = options.agentLibrary ?? ((): ReadonlyMap<string, string> => new Map());
  const resolveDefinition = options.resolveDefinition ?? ((name: string) => library().get(name));

  return {
    async start() {
      // Held while the CP runs: a second CP, or a restore, on this state dir is refused before it touches anything.
      const lock = acquireStateLock(options.stateDir, `okesu cp serve (pid ${process.pid})`);
      let identity: CpIdentity;
      let st: Store;
      try {
        assertStateComplete(options.stateDir);
        identity = await loadOrCreateIdentity(options.stateDir, options.sans ?? []);
        st = openStore(join(options.stateDir, 'cp.db'), { log });
      } catch (err) {
        lock.release();
        throw err;
      }
      store = st;
      let bucket: Bucket | undefined;
      try {
        bucket = options.bucketStore ?? (options.bucket ? await openS3Bucket(options.bucket) : undefined);
        // A job is claimed once only if the store honours conditional creates: refuse to start on one that does not.
        if (bucket) await probeConditionalWrites(bucket, bucketLayout(options.bucket?.prefix ?? '').probe());
      } catch (err) {
        if (bucket && !options.bucketStore) bucket.close();
        st.close();
        lock.release();
        throw err;
      }
      // A release a running rollout targets is never pruned, at start too: asked of the store, which holds the rollouts.
      let releases: ReleaseStore;
      try {
        releases = createReleaseStore(
          { stateDir: options.stateDir, trustedKeys: options.releaseKeys ?? [], ...(options.keepReleases !== undefined && { keep: options.keepReleases }) },
          { db: st.db, transaction: (fn) => st.transaction(fn), inUse: (version) => st.rollouts.inUse(version), now, log },
        );
      } catch (err) {
        if (bucket && !options.bucketStore) bucket.close();
        st.close();
        lock.release();
        throw err;
      }
      const releaseKeys = releases.trustedKeys();
      const adminToken = ensureAdminToken(st, now());
      const intervalMs = options.heartbeatIntervalMs ?? 5000;

      const auth = createOperatorAuth(st.tokens, now);
      const sessions = createOperatorSessions({ now, clock: options.clock ?? realClock });
      liveSessions = sessions;
      const stream = createStreamHub({ feed: st.feed, authenticate: (req) => auth.authenticate(req), failures: authFailures, sessions, log });
      const waiters = createRunWaiters();
      // The tunnel hub and the dispatcher need each other; the hub reaches the dispatcher (and liveness the rollouts)
      // through this late binding.
      const late: { dispatcher?: ReturnType<typeof createDispatcher>; rollouts?: Rollouts } = {};
      const liveness = createLiveness({
        hosts: st.hosts, health: st.health, log, now, intervalMs, flushMs: options.livenessFlushMs ?? 1000,
        transaction: (fn) => st.transaction(fn),
        writeChanges: (views) => {
          const at = now();
          return views.map((view) => st.feed.append(at, 'host', view));
        },
        publishChanges: (views, cursors) => views.forEach((view, i) => stream.publish('host', cursors[i] as number, view)),
        rolloutOf: (hostname) => late.rollouts?.hostState(hostname),
      });
      liveness.load();
      // The engine is told of agent runs that end (ingest, dispatcher) and the triggers of new findings; both late-bound.
      const orch: { engine?: ReturnType<typeof createOrchestrationEngine>; triggers?: ReturnType<typeof createTriggers> } = {};
      const ingest = createIngestQueue({
        store: st, now, log,
        alongside: () => liveness.pendingAnnouncements(),
        onCommitted: (r) => {
          for (const f of r.findings) stream.publish('finding', f.cursor, f.finding);
          for (const run of r.runs) stream.publish('run', run.cursor, run.run);
          for (const run of r.runs) jobs?.route.onRunChanged(run.run, 'host');
          for (const runId of r.touchedRuns) waiters.notify(runId);
          for (const run of r.runs) orch.engine?.onRunChanged(run.run);
          if (r.findings.length > 0) orch.triggers?.onFindings(r.findings.map((f) => f.finding));
        },
      });
      const hostCertTtlMs = options.hostCertTtlMs ?? DEFAULT_HOST_CERT_TTL_MS;
      // A host's view changed outside liveness (a renewal, a registration through the bucket): to the feed and the stream.
      const publishHost = (hostname: string): void => {
        const row = st.hosts.get(hostname);
        if (!row) return;
        const view = liveness.view(row, now());
        stream.publish('host', st.feed.append(now(), 'host', view), view);
      };
      // An upgrade report, by the tunnel or the bucket, goes to the rollouts (which clear a final host's bucket order).
      const upgradeReport = (hostname: string, report: UpgradeReport): void => late.rollouts?.onUpgradeStatus(hostname, report);
      const renewal = createCertRenewal({ store: st, ca: identity.ca, ttlMs: hostCertTtlMs, now, log, onRenewed: publishHost });
      const tunnels = createTunnelHub({
        hosts: st.hosts, liveness, ingest, heartbeatIntervalMs: intervalMs, reconnectRatePerS: options.reconnectRatePerS, now, log, failures: authFailures, renewal,
        events: {
          onHello: (hostname, running, version) => {
            late.dispatcher?.onHello(hostname, running);
            late.rollouts?.onHello(hostname, version);
          },
          onUpgradeStatus: (hostname, report) => upgradeReport(hostname, report),
          onDispatchAck: (hostname, runId, accepted, error) => late.dispatcher?.onDispatchAck(hostname, runId, accepted, error),
        },
      });
      jobs = bucket && createJobsMode({
        bucket, ownsBucket: !options.bucketStore, prefix: options.bucket?.prefix ?? '', store: st, identity, liveness, ingest, hostCertTtlMs, releaseKeys, renewal, scanMs: options.bucketScanMs, now, log,
        ...(options.bucketListPageSize !== undefined && { listPageSize: options.bucketListPageSize }),
        onRegistered: (hostname) => {
          log.info({ host: hostname, via: 'bucket' }, 'host registered');
          publishHost(hostname);
        },
        onUpgradeStatus: (hostname, report) => upgradeReport(hostname, report),
        // What a tunnel's hello says of the version, a jobs host's heartbeats say: stored, shown, told to the rollouts.
        onVersion: (hostname, version) => {
          const row = st.hosts.get(hostname);
          if (row && row.version !== version) {
            st.hosts.updateFacts(row.id, { version, os: row.os, arch: row.arch, labels: row.labels });
            publishHost(hostname);
          }
          late.rollouts?.onHello(hostname, version);
        },
      });
      // The tunnel first: `auto` prefers it while it is up, and falls back to the bucket when it is not.
      const routes = jobs ? [tunnels.route, jobs.route] : [tunnels.route];
      const dispatcher = createDispatcher({
        store: st, routes, now, log, resolveDefinition,
        publishRun: (run, cursor) => {
          stream.publish('run', cursor, run);
          jobs?.route.onRunChanged(run, 'cp');
          waiters.notify(run.run_id);
          orch.engine?.onRunChanged(run);
        },
      });
      late.dispatcher = dispatcher;
      const delivery = createUpgradeDelivery({
        tunnel: { canReach: (hostname) => tunnels.route.canReach(hostname), sendUpgrade: (hostname, frame) => tunnels.sendUpgrade(hostname, frame) },
        ...(jobs && {
          bucket: {
            canReach: (hostname: string) => jobs?.route.canReach(hostname) ?? false,
            uses: (hostname: string) => (st.hosts.get(hostname)?.transport ?? 'tunnel') !== 'tunnel',
            upgrades: jobs.upgrades,
          },
        }),
        releases, report: (hostname, report) => upgradeReport(hostname, report), log: log.child({ component: 'rollouts' }),
      });
      const rollouts = createRollouts({
        store: st, releases, now, log: log.child({ component: 'rollouts' }),
        delivery,
        publish: (cursor, change) => stream.publish('rollout', cursor, change),
        ...options.rolloutTiming,
      });
      late.rollouts = rollouts;
      const clock = options.clock ?? realClock;
      const engine = createOrchestrationEngine({
        store: st, dispatcher, now, log: log.child({ component: 'orchestrations' }), clock,
        publish: (view, cursor) => stream.publish('orchestration_run', cursor, view),
        hostState: (hostname) => {
          const row = st.hosts.get(hostname);
          return row ? liveness.view(row, now()).state : undefined;
        },
        offlineAfterMs: 12 * intervalMs,
        hostOfflineAfterMs: (hostname) => 12 * (liveness.standing(hostname)?.intervalMs ?? intervalMs),
        // The fleet comes back at the reconnect pace (cp serve --reconnect-rate) plus a couple of heartbeats.
        canReach: (host) => routes.some((r) => r.canReach(host)),
        resumeAfterMs: Math.min(120_000, 2 * intervalMs + Math.ceil((st.hosts.count() / (options.reconnectRatePerS ?? 150)) * 1000)),
      });
      const triggers = createTriggers({
        repo: st.orchestrations, clock, log: log.child({ component: 'orchestration-triggers' }), health: st.health,
        start: (spec, fields, triggeredBy) => engine.runTriggered(spec, fields, triggeredBy),
      });
      orch.engine = engine;
      orch.triggers = triggers;

      const router = createRouter({ log, authenticate: auth.authenticate, authorize: auth.authorize, failures: authFailures, sessions, mapError: (err) => st.health.failed(err, 'api') });
      const agents = createAgentLibrary(library);
      const api = { store: st, identity, liveness, dispatcher, waiters, stream, tunnels, agents, now, log, version: options.version, authFailures, sessions, hostCertTtlMs, releaseKeys, ...(jobs && { jobs }) };
      addFleetRoutes(router, api);
      addRunRoutes(router, api);
      addFindingRoutes(router, api);
      addAdminRoutes(router, api);
      addOrchestrationRoutes(router, api, { engine, triggers });
      // The advertised URL is known once the port is bound (port 0): deploys ask for it after start.
      let advertisedUrl = '';
      addDeployRoutes(router, api, { cpUrl: () => advertisedUrl });
      addReleaseRoutes(router, api, releases);
      addRolloutRoutes(router, rollouts);

      // One port, two kinds of client: daimons present a certificate (checked on /v1/tunnel), operators do not.
      // Session tickets let a reconnecting daimon resume instead of redoing the mutual-TLS handshake; a resumed session
      // carries the client certificate of the one it resumes, and tunnel-auth checks it (and the credential) again.
      const tickets = loadTicketKeys(options.stateDir, Date.now());
      const srv = createServer({
        key: identity.server.keyPem, cert: identity.server.certPem, ca: [identity.ca.certPem],
        requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2',
        ticketKeys: tickets.keys, sessionTimeout: TICKET_KEY_PERIOD_MS / 1000, sessionIdContext: 'okesu-cp',
        // A release upload (~90 MB) over a slow link outlasts Node's default of 5 min for a whole request; headers
        // still have to arrive within headersTimeout (60 s).
        requestTimeout: RELEASE_UPLOAD_TIMEOUT_MS,
      });
      // An address that went on failing after its 429s is cut off here, before the TLS handshake it would cost.
      srv.on('connection', (socket: Socket) => {
        if (!authFailures.admit(socket.remoteAddress)) socket.destroy();
      });
      const ticketRotation = rotateTicketKeys(srv, { stateDir: options.stateDir, createdAt: tickets.createdAt, now: Date.now, log });
      srv.on('request', (req, res) => void router.handle(req, res));
      // `Expect: 100-continue` (release uploads): the route, not Node, decides whether the body is wanted.
      srv.on('checkContinue', (req, res) => void router.handle(req, res));
      srv.on('upgrade', (req, socket, head: Buffer) => {
        socket.on('error', () => undefined);
        const path = new URL(req.url ?? '/', 'https://cp.invalid').pathname;
        if (path === '/v1/tunnel') tunnels.handleUpgrade(req, socket, head);
        else if (path === '/v1/stream') stream.handleUpgrade(req, socket, head);
        else refuseUpgrade(socket, new OkesuError('OKS_ERR_NOT_FOUND', `no WebSocket endpoint ${path}`));
      });
      srv.on('tlsClientError', (err) => log.debug({ err: err.message }, 'TLS handshake failed'));
      srv.on('clientError', (err, socket) => socket.destroy(err));
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        // A CP restart under a large fleet meets thousands of reconnecting daimons at once: Node's default accept
        // backlog (511) overflows, the kernel drops SYNs and each dropped client waits out TCP's 1-3-7 s retransmits.
        srv.listen({ port: options.port, host: options.host, backlog: LISTEN_BACKLOG }, () => resolve());
      });
      const port = (srv.address() as AddressInfo).port;
      const wildcard = options.host === '0.0.0.0' || options.host === '::' || options.host === '';
      const url = options.advertiseUrl ?? `https://${wildcard ? '127.0.0.1' : options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
      advertisedUrl = url;
      writeAdminConfig(options.stateDir, url, identity.ca.certPem, adminToken);

      liveness.start();
      tunnels.start();
      stream.start();
      dispatcher.start();
      engine.start();
      triggers.start();
      rollouts.start();
      jobs?.start();
      const feedPruner = setInterval(() => {
        try {
          st.feed.prune(now() - 7 * 86_400_000);
        } catch (err) {
          if (!st.health.failed(err, 'feed prune')) log.error({ err }, 'feed prune failed');
        }
      }, 3_600_000);
      feedPruner.unref();
      log.info({ url, state: options.stateDir, heartbeat_interval_ms: intervalMs, first_start: Boolean(adminToken), bucket: bucket?.description }, 'control plane listening');

      stopAll = async () => {
        clearInterval(feedPruner);
        ticketRotation.stop();
        dispatcher.stop();
        triggers.stop();
        rollouts.stop();
        engine.stop();
        waiters.releaseAll();
        const closed = new Promise<void>((resolve) => srv.close(() => resolve()));
        srv.closeAllConnections();
        // Upgraded sockets are not HTTP connections: closeAllConnections leaves them open and srv.close waits for
        // them, so the WebSockets must be terminated before waiting.
        await tunnels.stop();
        await stream.stop();
        sessions.stop();
        await closed;
        await engine.idle();
        await jobs?.stop();
        jobs = undefined;
        ingest.flush();
        liveness.stop();
        st.close();
        lock.release();
      };
      return { url, port };
    },
    async stop() {
      await stopAll?.();
      stopAll = undefined;
    },
    store() {
      if (!store) throw new Error('control plane not started');
      return store;
    },
    authFailures: () => authFailures.snapshot(),
    operatorConnections: () => liveSessions?.count() ?? 0,
    bucketScanner: () => jobs?.scanner,
  };
}
