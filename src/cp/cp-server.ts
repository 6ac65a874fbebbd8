import type { Logger } from 'pino';
import type { Store } from './store/store.js';
import { writeAdminConfig } from './cp-state.js';
import { openCpFoundation, type CpFoundation } from './cp-foundation.js';
import { acquireStateLock } from './store/state-lock.js';
import { createRouter } from './http/router.js';
import { createOperatorAuth } from './http/operator-auth.js';
import { createLiveness } from './liveness.js';
import { createIngestQueue } from './ingest-queue.js';
import { ingestThreadFor } from './ingest-thread.js';
import { createStreamHub } from './stream/stream-hub.js';
import { createTunnelHub } from './tunnel/tunnel-hub.js';
import { createDispatcher, type Dispatcher } from './dispatcher.js';
import { createRunWaiters } from './run-waiters.js';
import { addFleetRoutes } from './api/fleet-routes.js';
import { addRunRoutes } from './api/run-routes.js';
import { addAdminRoutes } from './api/admin-routes.js';
import { addOrchestrationRoutes } from './api/orchestration-routes.js';
import { addFindingRoutes } from './api/finding-routes.js';
import { addDeployRoutes } from './api/deploy-routes.js';
import { addReplicaRoutes } from './api/replica-routes.js';
import { createAgentLibrary } from './agent-library.js';
import { realClock } from './orchestration/clock.js';
import { createOrchestrationEngine, type OrchestrationEngine } from './orchestration/engine.js';
import { createTriggers, type Triggers } from './orchestration/triggers.js';
import { createAuthFailures, type AuthFailureSnapshot } from './http/auth-failures.js';
import { createOperatorSessions, type OperatorSessions } from './http/operator-sessions.js';
import { createCertRenewal } from './tunnel/cert-renewal.js';
import { DEFAULT_HOST_CERT_TTL_MS } from './registration.js';
import type { Bucket } from '../transport/bucket/bucket.js';
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
import type { UpgradeOrder, UpgradeReport } from '../protocol/rollout.js';
import type { RunView } from '../protocol/api.js';
import type { StoredFinding } from '../protocol/finding.js';
import { addRolloutRoutes } from './api/rollout-routes.js';
import type { FeedMessageEntry } from './bus/cp-bus.js';
import { createFeedWriter } from './feed-writer.js';
import { createFeedFollower, type FeedFollower } from './stream/feed-follower.js';
import { listenCpHttps, type CpHttpsServer } from './http/cp-https-server.js';
import { clusterRuntime, singleRuntime, type ClusterRuntime } from './cluster/cluster-runtime.js';
import { bindLeaderDuties } from './leader-duties.js';
import type { ControlPlaneOptions } from './cp-options.js';

export type { ControlPlaneOptions } from './cp-options.js';
import { bucketScanReading, createCpMetrics } from './metrics/cp-metrics.js';
import type { MetricCollectors } from './metrics/collector.js';
import { createReadiness } from './readiness.js';
import { addProbeRoutes } from './api/probe-routes.js';
import { listenMetrics, type MetricsListener } from './http/metrics-listener.js';
import { createNotifier, type Notifier } from './notify/notifier.js';
import { loadNotifyKey } from './notify/notify-key.js';
import { createWebhookSender } from './notify/webhook-sender.js';
import { createSlackSender } from './notify/slack-sender.js';
import { createEmailSender } from './notify/email-sender.js';
import { addNotifyRoutes } from './api/notify-routes.js';
import { createNotifyMetrics } from './notify/notify-metrics.js';

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
  /** True while this replica leads (a single CP always does once started). */
  isLeader(): boolean;
  /** Where the plain-HTTP metrics listener listens, when `metricsListen` asked for one (tests: its port 0 resolved). */
  metricsAddress(): { host: string; port: number } | undefined;
  /** Where collect-time metrics are added (`addCollector`: docs/metrics.md), for parts wired outside and tests. */
  metrics(): MetricCollectors;
  /** Alert delivery once started: its `stats()` feeds `/metrics`. */
  notifier(): Notifier | undefined;
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
  let runtime: ClusterRuntime | undefined;
  let notifier: Notifier | undefined;
  const library = options.agentLibrary ?? ((): ReadonlyMap<string, string> => new Map());
  const resolveDefinition = options.resolveDefinition ?? ((name: string) => library().get(name));
  // Counters the parts feed from the start; prom-client is loaded on the first scrape (docs/metrics.md).
  const metrics = createCpMetrics();
  const counters = metrics.counters;
  const notifyMetrics = createNotifyMetrics();
  notifyMetrics.register(metrics, () => notifier);
  let metricsListener: MetricsListener | undefined;

  return {
    async start() {
      // Held while the CP runs: a second CP, or a restore, on this state dir is refused before it touches anything.
      const lock = acquireStateLock(options.stateDir, `okesu cp serve (pid ${process.pid})`);
      let foundation: CpFoundation;
      let bucket: Bucket | undefined;
      let releases: ReleaseStore;
      try {
        foundation = await openCpFoundation(options, { log, now });
      } catch (err) {
        lock.release();
        throw err;
      }
      const closeFoundation = async (): Promise<void> => {
        if (bucket && !options.bucketStore) bucket.close();
        await foundation.close();
        lock.release();
      };
      try {
        bucket = options.bucketStore ?? (options.bucket ? await openS3Bucket(options.bucket) : undefined);
        // A job is claimed once only if the store honours conditional creates: refuse to start on one that does not.
        if (bucket) await probeConditionalWrites(bucket, bucketLayout(options.bucket?.prefix ?? '').probe());
        const st0 = foundation.store;
        // A release a running rollout targets is never pruned, at start too: asked of the store, which holds the rollouts.
        releases = createReleaseStore(
          { stateDir: options.stateDir, trustedKeys: options.releaseKeys ?? [], ...(options.keepReleases !== undefined && { keep: options.keepReleases }) },
          { db: st0.db, transaction: (fn) => st0.transaction(fn), inUse: (version) => st0.rollouts.inUse(version), now, log },
        );
      } catch (err) {
        await closeFoundation();
        throw err;
      }
      // Anything that fails from here on (a store refusing a read, the port taken) closes what was opened.
      let server: CpHttpsServer | undefined;
      let follower: FeedFollower | undefined;
      try {
        const { store: st, identity, bus } = foundation;
        store = st;
        const releaseKeys = releases.trustedKeys();
        // On a shared store, replicas starting together create one first admin token between them.
        const adminToken = foundation.ensureAdminToken(now());
        const intervalMs = options.heartbeatIntervalMs ?? 5000;
        const feed = createFeedWriter({ feed: st.feed, bus });

        const auth = createOperatorAuth(st.tokens, now);
        const sessions = createOperatorSessions({ now, clock: options.clock ?? realClock });
        liveSessions = sessions;
        const stream = createStreamHub({ feed: st.feed, authenticate: (req) => auth.authenticate(req), failures: authFailures, sessions, log });
        const waiters = createRunWaiters();
        // The tunnel hub and the dispatcher need each other; the hub reaches the dispatcher (and liveness the rollouts,
        // the cluster runtime) through this late binding.
        const late: { dispatcher?: Dispatcher; rollouts?: Rollouts; runtime?: ClusterRuntime } = {};
        const liveness = createLiveness({
          hosts: st.hosts, health: st.health, log, now, intervalMs, flushMs: options.livenessFlushMs ?? 1000,
          transaction: (fn) => st.transaction(fn),
          writeChanges: (views) => {
            const at = now();
            return views.map((view) => st.feed.append(at, 'host', view));
          },
          publishChanges: (views, cursors) => feed.publish(views.map((view, i) => ({ cursor: cursors[i] as number, kind: 'host', payload: view }))),
          rolloutOf: (hostname) => late.rollouts?.hostState(hostname),
          ...(foundation.cluster && {
            // Fleet-wide: what other replicas heard is read back from the store; silence is judged by the leader alone.
            fleet: {
              heardSince: (since: number) => st.hosts.heardSince(since),
              connectedElsewhere: (hostname: string) => {
                const holder = late.runtime?.directory?.replicaOf(hostname);
                return holder !== undefined && holder !== bus.replicaId && (late.runtime?.membership?.isAlive(holder) ?? false);
              },
              judgesSilence: () => late.runtime?.leadership.isLeader() ?? false,
            },
          }),
        });
        liveness.load();
        // The engine hears of agent runs that end, the triggers of new findings: both through the feed (on a cluster,
        // every replica's), both late-bound.
        const orch: { engine?: OrchestrationEngine; triggers?: Triggers } = {};
        const ingest = createIngestQueue({
          store: st, now, log, thread: ingestThreadFor(st),
          alongside: () => liveness.pendingAnnouncements(),
          onCommitTimed: counters.commitTimed,
          onCommitted: (r) => {
            counters.ingested(r);
            for (const run of r.runs) counters.runChanged(run.run);
            feed.publish([
              ...r.findings.map((f): FeedMessageEntry => ({ cursor: f.cursor, kind: 'finding', payload: f.finding })),
              ...r.runs.map((run): FeedMessageEntry => ({ cursor: run.cursor, kind: 'run', payload: run.run })),
            ]);
            for (const run of r.runs) jobs?.route.onRunChanged(run.run, 'host');
            // Events of a run that did not change its status wake this replica's long polls of them.
            for (const runId of r.touchedRuns) waiters.notify(runId);
          },
        });
        follower = createFeedFollower({
          bus, feed: st.feed, cluster: foundation.cluster, log,
          deliver: (entries) => {
            const findings: StoredFinding[] = [];
            for (const e of entries) {
              stream.publish(e.kind, e.cursor, e.payload);
              if (e.kind === 'run') {
                const run = e.payload as RunView;
                waiters.notify(run.run_id);
                orch.engine?.onRunChanged(run);
              } else if (e.kind === 'finding') findings.push(e.payload as StoredFinding);
            }
            if (findings.length > 0) orch.triggers?.onFindings(findings);
            if (findings.length > 0) notifier?.onFindings();
          },
        });
        const hostCertTtlMs = options.hostCertTtlMs ?? DEFAULT_HOST_CERT_TTL_MS;
        // A host's view changed outside liveness (a renewal, a registration through the bucket): to the feed and the stream.
        const publishHost = (hostname: string): void => {
          const row = st.hosts.get(hostname);
          if (!row) return;
          feed.publish([feed.append(now(), 'host', liveness.view(row, now()))]);
        };
        // An upgrade report, by the tunnel or the bucket, goes to the leader's rollouts (which clear a final host's bucket order).
        const upgradeReport = (hostname: string, report: UpgradeReport): void => late.runtime?.reportToLeader({ hostname, upgrade: report });
        const renewal = createCertRenewal({ store: st, ca: identity.ca, ttlMs: hostCertTtlMs, now, log, onRenewed: publishHost });
        const tunnels = createTunnelHub({
          hosts: st.hosts, liveness, ingest, heartbeatIntervalMs: intervalMs, reconnectRatePerS: options.reconnectRatePerS, now, log, failures: authFailures, renewal,
          events: {
            onHello: (hostname, running, version) => {
              late.dispatcher?.onHello(hostname, running);
              late.runtime?.reportToLeader({ hostname, version });
            },
            onTunnel: (hostname, up) => late.runtime?.tunnelChanged(hostname, up),
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
            late.runtime?.reportToLeader({ hostname, version });
          },
        });
        const localTunnels = {
          route: tunnels.route, count: () => tunnels.count(),
          sendUpgrade: (hostname: string, order: UpgradeOrder) => tunnels.sendUpgrade(hostname, { type: 'upgrade', ...order }),
          disconnect: (hostname: string, code: 'OKS_ERR_HOST_REVOKED') => tunnels.disconnect(hostname, code),
        };
        const rt = foundation.cluster
          ? clusterRuntime({
              bus, store: st, tunnels: localTunnels,
              selfUrl: () => options.replicaUrl ?? `https://${wildcardHost(options.host) ? '127.0.0.1' : options.host}:${server?.port ?? options.port}`,
              version: options.version, caPem: identity.ca.certPem, serverCertPem: identity.server.certPem, now, log,
              ...(options.leaseTiming && { leaseTtlMs: options.leaseTiming.ttlMs, leaseRenewMs: options.leaseTiming.renewMs }),
            })
          : singleRuntime(bus.replicaId, localTunnels);
        late.runtime = rt;
        runtime = rt;
        // The local tunnel first, then another replica's, then the bucket: `auto` takes the first that reaches the host.
        const routes = [tunnels.route, ...rt.remoteRoutes, ...(jobs ? [jobs.route] : [])];
        const dispatcher = createDispatcher({
          store: st, routes, now, log, resolveDefinition, onDispatched: counters.dispatched,
          publishRun: (run, cursor) => {
            counters.runChanged(run);
            feed.publish([{ cursor, kind: 'run', payload: run }]);
            jobs?.route.onRunChanged(run, 'cp');
          },
        });
        late.dispatcher = dispatcher;
        const delivery = createUpgradeDelivery({
          tunnel: { canReach: (hostname) => rt.upgradeTunnel.canReach(hostname), sendUpgrade: (hostname, frame) => rt.upgradeTunnel.sendUpgrade(hostname, frame) },
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
          publish: (cursor, change) => feed.publish([{ cursor, kind: 'rollout', payload: change }]),
          ...options.rolloutTiming,
        });
        late.rollouts = rollouts;
        rt.onHostReport((report) => ('upgrade' in report ? rollouts.onUpgradeStatus(report.hostname, report.upgrade) : rollouts.onHello(report.hostname, report.version)));
        const clock = options.clock ?? realClock;
        const engine = createOrchestrationEngine({
          store: st, dispatcher, now, log: log.child({ component: 'orchestrations' }), clock,
          publish: (view, cursor) => feed.publish([{ cursor, kind: 'orchestration_run', payload: view }]),
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
        const api = { store: st, identity, liveness, dispatcher, waiters, feed, tunnels: { disconnect: (hostname: string) => rt.disconnect(hostname) }, agents, now, log, version: options.version, authFailures, sessions, hostCertTtlMs, releaseKeys, ...(jobs && { jobs }) };
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
        // Alert delivery: channel secrets sealed with the cluster key on a cluster, else the state dir's notify.key.
        notifier = createNotifier({
          store: st, key: loadNotifyKey(options), senders: options.notify?.senders ?? [createWebhookSender(), createSlackSender(), createEmailSender()], log, now,
          cpUrl: () => advertisedUrl, ...(options.notify?.timing && { timing: options.notify.timing }), onAttempt: notifyMetrics.onAttempt,
        });
        addNotifyRoutes(router, api, notifier);
        const startedAt = now();
        addReplicaRoutes(router, { replicas: () => rt.replicas({ version: options.version, startedAt, tunnels: tunnels.count(), now: now() }) });
        // Metrics and readiness (docs/metrics.md): read at scrape time from what the parts keep.
        const readiness = createReadiness({ store: st, now, log, ...(foundation.cluster && { bus }) });
        metrics.bind({
          version: options.version, hostStates: () => liveness.stateCounts(), heartbeats: () => liveness.heartbeats(), tunnelsOpen: () => tunnels.count(),
          runsActive: () => st.runs.countActive(), ingestQueueDepth: () => ingest.depth(), streamClients: () => stream.count(), operatorConnections: () => sessions.count(),
          authFailures: () => authFailures.snapshot(), storeErrors: () => st.health.failureCounts(), bucketScans: () => bucketScanReading(jobs?.scanner.stats(), now()),
          isLeader: () => rt.leadership.isLeader(),
        });
        addProbeRoutes(router, { readiness, metrics });

        server = await listenCpHttps({
          identity, tickets: foundation.tickets, host: options.host, port: options.port, failures: authFailures, log,
          handlers: {
            request: (req, res) => {
              if (rt.forward?.maybeForward(req, res)) return;
              void router.handle(req, res);
            },
            tunnelUpgrade: (req, socket, head) => tunnels.handleUpgrade(req, socket, head),
            streamUpgrade: (req, socket, head) => stream.handleUpgrade(req, socket, head),
          },
        });
        const port = server.port;
        if (options.metricsListen) metricsListener = await listenMetrics({ ...options.metricsListen, metrics, readiness, version: options.version, log });
        const url = options.advertiseUrl ?? `https://${wildcardHost(options.host) ? '127.0.0.1' : options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
        advertisedUrl = url;
        writeAdminConfig(options.stateDir, url, identity.ca.certPem, adminToken);

        // What runs once per fleet runs on the leader: all of it on a single CP.
        let feedPruner: NodeJS.Timeout | undefined;
        const duties = bindLeaderDuties(rt.leadership, [
          { name: 'run timeout sweep', start: () => dispatcher.start(), stop: () => dispatcher.stop() },
          { name: 'orchestration engine', start: () => engine.start(), stop: () => engine.stop() },
          { name: 'orchestration triggers', start: () => triggers.start(), stop: () => triggers.stop() },
          { name: 'rollouts', start: () => rollouts.start(), stop: () => rollouts.stop() },
          ...(jobs ? [{ name: 'bucket scanner', start: () => jobs?.start(), stop: () => jobs?.scanner.stop() }] : []),
          ...notifier.duties,
          {
            name: 'feed pruning',
            start: () => {
              feedPruner = setInterval(() => {
                try {
                  st.feed.prune(now() - 7 * 86_400_000);
                } catch (err) {
                  if (!st.health.failed(err, 'feed prune')) log.error({ err }, 'feed prune failed');
                }
              }, 3_600_000);
              feedPruner.unref();
            },
            stop: () => clearInterval(feedPruner),
          },
        ], log);
        liveness.start();
        tunnels.start();
        stream.start();
        rt.start();
        log.info({ url, state: options.stateDir, replica: bus.replicaId, cluster: foundation.cluster, heartbeat_interval_ms: intervalMs, first_start: Boolean(adminToken), bucket: bucket?.description }, 'control plane listening');

        stopAll = async () => {
          const srv = server as CpHttpsServer;
          await duties.stopAll();
          rt.stop();
          waiters.releaseAll();
          const closed = srv.close();
          await metricsListener?.close();
          metricsListener = undefined;
          // Upgraded sockets are not HTTP connections: closeAllConnections leaves them open and srv.close waits for
          // them, so the WebSockets must be terminated before waiting.
          await tunnels.stop();
          await stream.stop();
          sessions.stop();
          await closed;
          await engine.idle();
          await jobs?.stop();
          jobs = undefined;
          await ingest.stop();
          liveness.stop();
          follower?.stop();
          await closeFoundation();
        };
        return { url, port };
      } catch (err) {
        await server?.close();
        await metricsListener?.close();
        follower?.stop();
        await closeFoundation();
        throw err;
      }
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
    isLeader: () => runtime?.leadership.isLeader() ?? false,
    metricsAddress: () => metricsListener && { host: metricsListener.host, port: metricsListener.port },
    metrics: () => metrics,
    notifier: () => notifier,
  };
}

const wildcardHost = (host: string): boolean => host === '0.0.0.0' || host === '::' || host === '';
