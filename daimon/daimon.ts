import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { OkesuError } from '../src/errors.js';
import type { DispatchEnvelope } from '../src/protocol/dispatch.js';
import type { AgentCatalog } from '../src/specs/agent-catalog.js';
import { formatSpecError } from '../src/specs/spec-error.js';
import { DEFAULT_POLICY_PATH } from '../src/specs/policy-spec.js';
import { securePrivateDir } from '../src/files/private-dir.js';
import { createAgentPipeline } from './agent-run/agent-pipeline.js';
import { agentDirs } from './agent-dirs.js';
import { createEventRelay } from './event-relay.js';
import type { EventRelay } from './event-relay.js';
import type { DaimonIdentity } from './identity.js';
import type { Provider } from './provider.js';
import { loadHostPolicy } from './policy/load-policy.js';
import { createProviderSet } from './providers/provider-set.js';
import { ensureIdentity } from './registration.js';
import { resolveDispatch } from './resolve-dispatch.js';
import { holdIdentitySecrets, holdJoinToken } from './secrets/hold-identity.js';
import { createRedactor } from './secrets/redact.js';
import { createSecretStore } from './secrets/secret-store.js';
import type { SecretStore } from './secrets/secret-store.js';
import { createRunRegistry, recoverInterruptedRuns } from './run-registry.js';
import { logContainment } from './run/containment.js';
import type { Containment } from './run/containment.js';
import { detectContainment } from './run/detect-containment.js';
import type { ContainmentMode } from './run/containment-modes.js';
import { createRunStarter } from './run-starter.js';
import type { Clock } from './scheduler/clock.js';
import { systemClock } from './scheduler/clock.js';
import { createSender } from './sender.js';
import { openSpool } from './spool/spool.js';
import { createTicker, selectTickedAgents } from './ticks.js';
import { createToolbox } from './tools/toolbox.js';
import type { TunnelClientOptions } from './tunnel-client.js';
import { createDaimonLifecycle } from './lifecycle/daimon-lifecycle.js';
import { downloadReleaseFromBucket } from './jobs/bucket-artifact.js';
import type { Bucket, BucketLocation } from '../src/transport/bucket/bucket.js';
import { openS3Bucket } from '../src/transport/bucket/open-s3-bucket.js';
import { probeConditionalWrites } from '../src/transport/bucket/probe-conditional-writes.js';
import { bucketLayout } from '../src/protocol/bucket-layout.js';
import { chooseTransportMode, createDaimonTransport } from './jobs/choose-transport.js';
import { bucketUrl } from '../src/transport/bucket/bucket-url.js';
import type { TransportMode } from './jobs/choose-transport.js';
import { createDaimonCounters } from './metrics/daimon-counters.js';
import type { DaimonCounters } from './metrics/daimon-counters.js';
import type { MetricsListen } from './metrics/listen-address.js';

/** How to run a daimon (`okesu daemon` flags). */
export interface DaimonOptions {
  /** State directory: identity, key, spool, run markers. */
  stateDir: string;
  /** CP URL; optional once registered (the identity remembers it). */
  cp?: string;
  /** Join token; needed only for the first start. */
  token?: string;
  /** Hostname to register as (default os.hostname()); ignored once registered. */
  hostname?: string;
  /** The host's own agent directories, searched before the built-ins. */
  agentDirs?: string[];
  /** The built-in agents directory; `false` leaves the built-ins out (default: the package's `agents/`). */
  builtinAgents?: string | false;
  labels?: Record<string, string>;
  /** Most un-acked events the spool holds before runs pause (default: the spool's). */
  spoolMaxRecords?: number;
  version: string;
  /** How long stop() lets cancelled runs wind down before it closes the spool under them (default 15 s). */
  stopGraceMs?: number;
  /** The host policy file; when given it must exist (default: /etc/okesu/policy.yaml if present). */
  policyPath?: string;
  /** `mode: daemon` agents to tick (`all` for every one); default none. */
  enable?: readonly string[];
  /** Inputs of the ticked agents, by agent name (`--input edr.exec_dirs=/srv/tmp`). */
  agentInputs?: Record<string, Record<string, unknown>>;
  /** How runs' processes are kept together: the best the host allows (`auto`, default), or one forced. */
  containment?: ContainmentMode;
  /** `tunnel`, `jobs` (the bucket only) or `auto` (the tunnel, the bucket while it is down); default from cp and bucket. */
  transport?: TransportMode;
  /** The jobs bucket (`--bucket s3://…`): modes `jobs` and `auto`, and registering without a CP URL. */
  bucket?: BucketLocation;
  /** Time between polls of the bucket (default 10 s). */
  pollMs?: number;
  /** A bucket heartbeat every this many polls (default 1). */
  heartbeatEvery?: number;
  /** How long a registration through the bucket waits for the CP's answer (default 10 min). */
  registrationTimeoutMs?: number;
  /** Running under `okesu supervise` (OKESU_SUPERVISOR_PID set): only then are upgrades taken (issue 15). */
  supervised?: boolean;
  /** The okesu executable this daimon runs from (`runningExecutable(entry).file`): what a first upgrade keeps to roll back to. */
  executable?: string;
  /** `--metrics-listen`: serve /metrics and /health over plain HTTP there (default: no listener, prom-client never loaded). */
  metricsListen?: MetricsListen;
  /** Reconnect tuning (tests). */
  tunnel?: Pick<TunnelClientOptions, 'backoffBaseMs' | 'backoffCapMs' | 'backoffResetMs' | 'resumeSessions'>;
}

/** What the daimon is given rather than builds. */
export interface DaimonDeps {
  log: Logger;
  now?: () => number;
  /** The CP refused this host for good (revoked, mismatched): the caller should stop and exit with the message. */
  onFatal?: (code: string, message: string) => void;
  /** An upgrade is staged and `bin/current` swapped: the caller should stop and exit 75 so the supervisor starts it. */
  onUpgradeRestart?: () => void;
  /** The provider for `provider: custom` (default: createCustomProvider()). */
  customProvider?: Provider;
  /** Environment of collectors; default process.env (from which the command has already taken the provider keys). */
  env?: NodeJS.ProcessEnv;
  /**
   * The provider keys and URLs, taken at start (default: none). The daimon adds its host credential, key and join
   * token, and scrubs every one of them from the events it relays (SPEC §11).
   */
  secrets?: SecretStore;
  /** Clock of the tick scheduler (default: the system clock). */
  clock?: Clock;
  /** The containment of runs (default: detected at start, see `DaimonOptions.containment`). */
  containment?: Containment;
  /** Opens the bucket of `DaimonOptions.bucket` (default: S3 over the AWS SDK's default credential chain). */
  openBucket?: (location: BucketLocation) => Promise<Bucket>;
  /** Loads the agent directories (default: in this thread; the daemon command uses a child process). */
  loadCatalog?: (dirs: string[]) => Promise<AgentCatalog>;
  /** The counters the daimon's parts increment (default: fresh ones); the metrics endpoint reads them. */
  counters?: DaimonCounters;
}

/** A daimon process's core. */
export interface Daimon {
  /** Registers if needed, opens the spool, ends runs a previous process left in flight, and connects. */
  start(): Promise<void>;
  /** Refuses new dispatches, cancels running runs, disconnects and closes the spool. */
  stop(): Promise<void>;
  /** The hostname this daimon is registered as (after start). */
  hostname(): string;
}

/**
 * Builds the daimon (SPEC §2–4): identity, durable spool, tunnel, sender and relay, dispatch handling (see
 * resolveDispatch: the host's own agent and its policy win over the CP), the agent pipeline (collectors, rules,
 * model, tools), and the tick scheduler for the `--enable`d `mode: daemon` agents. On stop, running runs are
 * cancelled (they end `cancelled`) rather than left to recovery, so the CP hears a true status whenever the daimon
 * had the chance to say it.
 */
export function createDaimon(options: DaimonOptions, deps: DaimonDeps): Daimon {
  const now = deps.now ?? Date.now;
  const secrets = deps.secrets ?? createSecretStore();
  const redactor = createRedactor(secrets);
  const counters = deps.counters ?? createDaimonCounters();
  let identity: DaimonIdentity | undefined;
  let shutdown: (() => Promise<void>) | undefined;
  const stop = async (): Promise<void> => {
    const fn = shutdown;
    shutdown = undefined;
    await fn?.();
  };

  return {
    hostname() {
      if (!identity) throw new Error('the daimon is not started');
      return identity.hostname;
    },
    async start() {
      if (shutdown) throw new Error('the daimon is already started');
      // Policy and agents first: a broken policy file or a bad --enable stops the start before anything is written.
      const policyLoad = await loadHostPolicy(options.policyPath ?? DEFAULT_POLICY_PATH, { required: options.policyPath !== undefined });
      if (!policyLoad.ok) {
        throw new OkesuError('OKS_ERR_CONFIG', `host policy: ${policyLoad.errors.map(formatSpecError).join('; ')}`);
      }
      const policy = policyLoad.policy;
      const loadCatalog = deps.loadCatalog ?? (async (dirs: string[]) => (await import('../src/specs/agent-catalog.js')).loadAgentCatalog(dirs));
      const catalog = await loadCatalog(agentDirs(options, deps.log));
      for (const e of catalog.errors) deps.log.warn({ problem: formatSpecError(e) }, 'agent file skipped');
      const ticked = selectTickedAgents(catalog.agents, options.enable ?? [], policy);
      if (!ticked.ok) {
        throw new OkesuError('OKS_ERR_CONFIG', ticked.error);
      }
      for (const d of ticked.denied) deps.log.warn({ agent: d.name, reason: d.reason }, 'enabled agent denied by the host policy: not ticked');
      // The state dir holds the key, the credential and event transcripts: 0700 and everything in it ours alone.
      securePrivateDir(options.stateDir);
      if (options.token) holdJoinToken(secrets, options.token);
      let containment: Containment;
      try {
        // The state dir names this daimon: its runs' cgroups carry a tag of it, so its next life can end their leftovers.
        const owner = createHash('sha256').update(resolve(options.stateDir)).digest('hex').slice(0, 8);
        containment = deps.containment ?? detectContainment({ mode: options.containment ?? 'auto', owner });
      } catch (err) {
        throw new OkesuError('OKS_ERR_CONFIG', `containment: ${(err as Error).message}`);
      }
      const location = options.bucket;
      const bucket = location && (await (deps.openBucket ?? ((l: BucketLocation) => openS3Bucket(l, { log: deps.log })))(location));
      let mode: TransportMode;
      try {
        const viaBucket = bucket && { bucket, prefix: location.prefix, url: bucketUrl(location), pollMs: options.pollMs, timeoutMs: options.registrationTimeoutMs };
        identity = (await ensureIdentity({ ...options, labels: options.labels ?? {}, bucket: viaBucket || undefined }, deps.log)).identity;
        mode = chooseTransportMode(options.transport, identity.cp, bucket !== undefined);
        // A store that overwrites on a conditional create would let two pollers both claim a job: refuse to poll it.
        if (bucket && location && mode !== 'tunnel') await probeConditionalWrites(bucket, bucketLayout(location.prefix).probe());
      } catch (err) {
        bucket?.close();
        throw err;
      }
      holdIdentitySecrets(secrets, identity);
      const host = identity.hostname;
      const log = deps.log.child({ host });
      // The spool reports "full" to the relay, which needs the spool: close the loop through this holder.
      const full: { relay?: EventRelay } = {};
      const spool = await openSpool({
        dir: join(options.stateDir, 'spool'),
        maxRecords: options.spoolMaxRecords,
        log,
        onFull: (info) => {
          log.warn(info, 'event spool full: runs pause until the CP acknowledges');
          full.relay?.broadcast({ type: 'spool_full', records: info.records, bytes: info.bytes });
        },
      });
      counters.spool = spool;
      const registry = createRunRegistry(join(options.stateDir, 'runs'), log);
      let current = identity;
      const lifecycle = createDaimonLifecycle(
        {
          stateDir: options.stateDir, version: options.version, hostname: host, supervised: options.supervised ?? false,
          ...(options.executable !== undefined && { runningFile: options.executable }),
          ...(policy.releaseKeys && { policyReleaseKeys: policy.releaseKeys }), identity: () => current,
          ...(bucket && location && {
            bucketFetch: async (manifest, partPath, signal) => void (await downloadReleaseFromBucket({ bucket, prefix: location.prefix, version: manifest.version, size: manifest.size, partPath, signal })),
          }),
        },
        { log, now, onRestart: () => deps.onUpgradeRestart?.() },
      );
      const transport = createDaimonTransport(
        {
          mode, identity, ...(bucket && location && { bucket: { bucket, prefix: location.prefix } }), stateDir: options.stateDir, version: options.version,
          labels: options.labels ?? {}, status: () => ({ running: registry.running(), spoolDepth: spool.depth() }), pollMs: options.pollMs,
          heartbeatEvery: options.heartbeatEvery, tunnel: { ...options.tunnel, lifecycle: lifecycle.tunnel, counters },
          // A renewed key is redacted from what runs print, as the first one is; an upgrade downloads with it.
          onRenewed: (renewed) => {
            current = renewed;
            holdIdentitySecrets(secrets, renewed);
          },
        },
        { log, now },
      );
      const sender = createSender(spool, transport, { counters });
      // Reports take the transport's way (auto: the tunnel while it is up, else the bucket).
      if (transport.reportUpgrade) lifecycle.reportVia((report) => transport.reportUpgrade?.(report));
      const activeRelay = createEventRelay({ spool, hostname: host, onAppended: sender.kick, log, now, redact: redactor.value, mayNeedRedaction: redactor.mayChange });
      full.relay = activeRelay;
      const pipeline = createAgentPipeline({
        policy,
        stateDir: join(options.stateDir, 'agents'),
        providerFor: createProviderSet({ secrets, custom: deps.customProvider }),
        toolboxFor: (agent, p, run) => createToolbox(agent, p, run),
        env: deps.env,
        now,
        counters,
      });
      logContainment(containment, log);
      const reaped = (await containment.reapLeftovers?.()) ?? 0;
      if (reaped > 0) log.warn({ scopes: reaped }, 'ended the processes of runs the previous daimon left behind (it was killed)');
      const starter = createRunStarter({ hostname: host, relay: activeRelay, registry, pipeline, log, now, containment, counters });
      const work = new Set<Promise<void>>();
      const track = (p: Promise<void>): void => {
        work.add(p);
        void p.finally(() => work.delete(p));
      };
      let stopping = false;

      const onDispatch = (env: DispatchEnvelope): void => {
        const runLog = log.child({ run_id: env.run_id, agent: env.agent });
        if (stopping) return transport.ackDispatch(env.run_id, false, { code: 'OKS_ERR_HOST_UNREACHABLE', message: `${host} is shutting down` });
        if (registry.known(env.run_id)) {
          runLog.info('repeated dispatch of a known run ignored');
          return transport.ackDispatch(env.run_id, true);
        }
        const resolved = resolveDispatch(env, catalog.agents, policy, host);
        if (!resolved.ok) {
          runLog.warn({ code: resolved.code, problem: resolved.message }, 'dispatch refused');
          registry.refuse(env.run_id);
          transport.ackDispatch(env.run_id, false, { code: resolved.code, message: resolved.message });
          const refusal = starter.refuse(env.run_id, env.agent, env.prompt, resolved.code, resolved.message);
          return track(refusal.catch((err: unknown) => runLog.error({ err }, 'could not record the refusal')));
        }
        let started: { done: Promise<void> };
        try {
          // The operator's timeout, else the agent file's own: the file this host runs, which may be its own copy.
          started = starter.start({ runId: env.run_id, agent: resolved.agent, prompt: env.prompt, inputs: env.inputs, timeoutMs: env.timeout_ms ?? resolved.agent.timeoutMs });
        } catch (err) {
          runLog.error({ err }, 'cannot write the run marker; dispatch refused');
          registry.refuse(env.run_id);
          return transport.ackDispatch(env.run_id, false, { code: 'OKS_ERR_INTERNAL', message: `cannot record the run: ${(err as Error).message}` });
        }
        transport.ackDispatch(env.run_id, true);
        runLog.info({ source: resolved.agent.source, provider: resolved.agent.provider, timeout_ms: env.timeout_ms ?? resolved.agent.timeoutMs, ...(resolved.signedBy !== undefined && { signed_by: resolved.signedBy }) }, 'run started');
        track(started.done);
      };
      const ticker = createTicker({
        agents: ticked.agents, inputsFor: (name) => options.agentInputs?.[name] ?? {}, starter, clock: deps.clock ?? systemClock,
        canStart: () => !stopping, log: log.child({ component: 'scheduler' }),
      });

      transport.start({
        onDispatch,
        onCancel: (runId, reason) => {
          if (registry.abort(runId, reason)) log.info({ run_id: runId, reason }, 'run cancelled by the CP');
        },
        // Orders read from the bucket (the tunnel's come through its lifecycle hooks).
        onUpgrade: (order) => lifecycle.order(order),
        onAck: sender.onAck,
        // Each bucket heartbeat written (the tunnel's acks reach the lifecycle through its own hooks).
        onContact: () => lifecycle.contact(),
        onUp: () => {
          sender.onUp();
          // Reaching the CP's side (a tunnel welcome, a bucket heartbeat written) is what health.json records.
          lifecycle.contact();
        },
        onDown: (reason) => log.debug({ reason }, 'transport down; events stay in the spool'),
        onFatal: (code, message) => deps.onFatal?.(code, message),
      });
      track(recoverInterruptedRuns(registry, activeRelay, log).then(() => undefined, (err: unknown) => log.error({ err }, 'recovering interrupted runs failed')));
      ticker.start();
      log.info(
        { cp: identity.cp, transport: transport.name, state: options.stateDir, agents: catalog.agents.size, ticked: ticked.agents.map((a) => a.name), policy: policy.source, spool_depth: spool.depth() },
        'daimon started',
      );

      let metrics: { stop(): Promise<void> } | undefined;
      shutdown = async () => {
        stopping = true;
        await metrics?.stop();
        lifecycle.stop();
        registry.abortAll('the daimon is stopping');
        const ticksStopped = ticker.stop();
        // Runs end `cancelled` while the tunnel is still up, so the CP may hear it now. A run stuck on a full spool
        // cannot end; after the grace the spool closes under it, and its marker makes the next start end it.
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<void>((res) => (timer = setTimeout(res, options.stopGraceMs ?? 15_000)));
        await Promise.race([Promise.allSettled([...work, ticksStopped]), grace]);
        clearTimeout(timer);
        sender.stop();
        await transport.stop();
        bucket?.close();
        await spool.close();
        await Promise.allSettled([...work]);
        log.info('daimon stopped');
      };
      if (options.metricsListen) {
        // Last, so a daimon without the flag never loads prom-client; an address that cannot be bound stops the start.
        try {
          const { startMetricsServer } = await import('./metrics/metrics-server.js');
          metrics = await startMetricsServer(options.metricsListen, { counters, version: options.version, log });
        } catch (err) {
          await stop();
          throw err;
        }
      }
    },
    stop,
  };
}
