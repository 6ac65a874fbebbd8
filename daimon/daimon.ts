import { arch, platform } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ErrorCode } from '../src/errors.js';
import type { DispatchEnvelope } from '../src/protocol/dispatch.js';
import type { AgentSpec } from '../src/specs/agent-spec.js';
import { builtinAgentsDir, loadAgentCatalog } from '../src/specs/agent-catalog.js';
import { formatSpecError, parseAgent } from '../src/specs/parse-agent.js';
import { createEventRelay } from './event-relay.js';
import type { EventRelay } from './event-relay.js';
import type { DaimonIdentity } from './identity.js';
import type { Provider } from './provider.js';
import { createCustomProvider } from './providers/custom-provider.js';
import { ensureIdentity } from './registration.js';
import { executeRun } from './run-executor.js';
import { createRunRegistry, recoverInterruptedRuns } from './run-registry.js';
import { createSender } from './sender.js';
import { openSpool } from './spool/spool.js';
import { createTunnelClient } from './tunnel-client.js';
import type { TunnelClientOptions } from './tunnel-client.js';

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
  /** Reconnect tuning (tests). */
  tunnel?: Pick<TunnelClientOptions, 'backoffBaseMs' | 'backoffCapMs' | 'backoffResetMs'>;
}

/** What the daimon is given rather than builds. */
export interface DaimonDeps {
  log: Logger;
  now?: () => number;
  /** The CP refused this host for good (revoked, mismatched): the caller should stop and exit with the message. */
  onFatal?: (code: string, message: string) => void;
  /** The provider for `provider: custom` (default: createCustomProvider()). */
  customProvider?: Provider;
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

type Resolved = { ok: true; agent: AgentSpec } | { ok: false; code: ErrorCode; message: string };

/** Stands in for a provider this build does not have: reports `api_unavailable` and lets the run complete (SPEC §4.1). */
function unavailableProvider(name: string): Provider {
  return {
    async run(ctx, emit) {
      ctx.log.warn({ provider: name }, 'provider not available in this build');
      await emit({ type: 'api_unavailable', provider: name, error: 'provider not available in this build' });
      return { status: 'completed' };
    },
  };
}

/**
 * Builds the daimon (SPEC §2–3): identity, durable spool, tunnel, sender and relay, plus dispatch handling — the
 * host's own agent of a name wins over the CP's definition; unknown or invalid agents are refused with an ack and
 * a failed run. On stop, running runs are cancelled (they end `cancelled`) rather than left to recovery, so the CP
 * hears a true status whenever the daimon had the chance to say it.
 */
export function createDaimon(options: DaimonOptions, deps: DaimonDeps): Daimon {
  const now = deps.now ?? Date.now;
  let identity: DaimonIdentity | undefined;
  let shutdown: (() => Promise<void>) | undefined;

  return {
    hostname() {
      if (!identity) throw new Error('the daimon is not started');
      return identity.hostname;
    },
    async start() {
      if (shutdown) throw new Error('the daimon is already started');
      identity = (await ensureIdentity({ ...options, labels: options.labels ?? {} }, deps.log)).identity;
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
      const catalog = await loadAgentCatalog(agentDirs(options, log));
      for (const e of catalog.errors) log.warn({ problem: formatSpecError(e) }, 'agent file skipped');
      const registry = createRunRegistry(join(options.stateDir, 'runs'), log);
      const transport = createTunnelClient(
        { identity, version: options.version, os: platform(), arch: arch(), labels: options.labels ?? {}, status: () => ({ running: registry.running(), spoolDepth: spool.depth() }), ...options.tunnel },
        { log: log.child({ component: 'tunnel' }), now },
      );
      const sender = createSender(spool, transport);
      const activeRelay = createEventRelay({ spool, hostname: host, onAppended: sender.kick, log, now });
      full.relay = activeRelay;
      const custom = deps.customProvider ?? createCustomProvider();
      const work = new Set<Promise<void>>();
      const track = (p: Promise<void>): void => {
        work.add(p);
        void p.finally(() => work.delete(p));
      };
      let stopping = false;

      const resolve = (env: DispatchEnvelope): Resolved => {
        const local = catalog.agents.get(env.agent);
        if (local) return { ok: true, agent: local };
        if (env.definition === undefined) {
          return { ok: false, code: 'OKS_ERR_AGENT_UNKNOWN', message: `no agent named ${env.agent} on ${host}, and the dispatch carried no definition` };
        }
        const parsed = parseAgent(env.definition, `<dispatch:${env.agent}>`);
        if (!parsed.ok) return { ok: false, code: 'OKS_ERR_AGENT_INVALID', message: parsed.errors.map(formatSpecError).join('; ') };
        if (parsed.agent.name !== env.agent) {
          return { ok: false, code: 'OKS_ERR_AGENT_INVALID', message: `the definition is agent ${parsed.agent.name}, the dispatch asked for ${env.agent}` };
        }
        return { ok: true, agent: parsed.agent };
      };
      const providerFor = (agent: AgentSpec): Provider => {
        switch (agent.provider) {
          case 'custom':
            return custom;
          case 'claude':
          case 'codex':
            return unavailableProvider(agent.provider);
        }
      };
      // A refused dispatch still gets a transcript that ends, so the CP's run record does not hang.
      const refuse = async (env: DispatchEnvelope, code: ErrorCode, message: string): Promise<void> => {
        const channel = activeRelay.open({ runId: env.run_id, agent: env.agent, agentVersion: '' }, { broadcasts: false });
        try {
          await channel.emit({ type: 'run_start', agent: env.agent, version: '', prompt: env.prompt });
          await channel.emit({ type: 'error', code, message });
          await channel.emit({ type: 'run_end', status: 'failed', duration_ms: 0, findings: 0, error: `${code}: ${message}` });
        } finally {
          channel.close();
        }
      };
      const run = (env: DispatchEnvelope, agent: AgentSpec, controller: AbortController): Promise<void> => {
        const runLog = log.child({ run_id: env.run_id, agent: agent.name });
        const channel = activeRelay.open({ runId: env.run_id, agent: agent.name, agentVersion: agent.version });
        return executeRun({
          runId: env.run_id, hostname: host, agent, prompt: env.prompt, inputs: env.inputs, timeoutMs: env.timeout_ms,
          signal: controller.signal, provider: providerFor(agent), emit: channel.emit, log: runLog, now,
        }).then(
          () => registry.finish(env.run_id, true),
          (err: unknown) => {
            runLog.error({ err }, 'the run could not record its events; the next start ends it');
            registry.finish(env.run_id, false);
          },
        ).finally(() => channel.close());
      };

      const onDispatch = (env: DispatchEnvelope): void => {
        const runLog = log.child({ run_id: env.run_id, agent: env.agent });
        if (stopping) return transport.ackDispatch(env.run_id, false, { code: 'OKS_ERR_HOST_UNREACHABLE', message: `${host} is shutting down` });
        if (registry.known(env.run_id)) {
          runLog.info('repeated dispatch of a known run ignored');
          return transport.ackDispatch(env.run_id, true);
        }
        const resolved = resolve(env);
        if (!resolved.ok) {
          runLog.warn({ code: resolved.code, problem: resolved.message }, 'dispatch refused');
          registry.refuse(env.run_id);
          transport.ackDispatch(env.run_id, false, { code: resolved.code, message: resolved.message });
          return track(refuse(env, resolved.code, resolved.message).catch((err: unknown) => runLog.error({ err }, 'could not record the refusal')));
        }
        const controller = new AbortController();
        try {
          registry.begin({ run_id: env.run_id, agent: resolved.agent.name, agent_version: resolved.agent.version, started_at: now() }, controller);
        } catch (err) {
          runLog.error({ err }, 'cannot write the run marker; dispatch refused');
          registry.refuse(env.run_id);
          return transport.ackDispatch(env.run_id, false, { code: 'OKS_ERR_INTERNAL', message: `cannot record the run: ${(err as Error).message}` });
        }
        transport.ackDispatch(env.run_id, true);
        runLog.info({ source: resolved.agent.source, provider: resolved.agent.provider, timeout_ms: env.timeout_ms }, 'run started');
        track(run(env, resolved.agent, controller));
      };

      transport.start({
        onDispatch,
        onCancel: (runId, reason) => {
          if (registry.abort(runId, reason)) log.info({ run_id: runId, reason }, 'run cancelled by the CP');
        },
        onAck: sender.onAck,
        onUp: sender.onUp,
        onDown: (reason) => log.debug({ reason }, 'transport down; events stay in the spool'),
        onFatal: (code, message) => deps.onFatal?.(code, message),
      });
      track(recoverInterruptedRuns(registry, activeRelay, log).then(() => undefined, (err: unknown) => log.error({ err }, 'recovering interrupted runs failed')));
      log.info({ cp: identity.cp, state: options.stateDir, agents: catalog.agents.size, spool_depth: spool.depth() }, 'daimon started');

      shutdown = async () => {
        stopping = true;
        registry.abortAll('the daimon is stopping');
        // Runs end `cancelled` while the tunnel is still up, so the CP may hear it now. A run stuck on a full spool
        // cannot end; after the grace the spool closes under it, and its marker makes the next start end it.
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<void>((res) => (timer = setTimeout(res, options.stopGraceMs ?? 15_000)));
        await Promise.race([Promise.allSettled([...work]), grace]);
        clearTimeout(timer);
        sender.stop();
        await transport.stop();
        await spool.close();
        await Promise.allSettled([...work]);
        log.info('daimon stopped');
      };
    },
    async stop() {
      const fn = shutdown;
      shutdown = undefined;
      await fn?.();
    },
  };
}

/** The directories agents load from, in order of precedence: the host's, then the built-ins. */
function agentDirs(options: DaimonOptions, log: Logger): string[] {
  const dirs = [...(options.agentDirs ?? [])];
  if (options.builtinAgents === false) return dirs;
  if (typeof options.builtinAgents === 'string') return [...dirs, options.builtinAgents];
  try {
    return [...dirs, builtinAgentsDir()];
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'built-in agents not found');
    return dirs;
  }
}
