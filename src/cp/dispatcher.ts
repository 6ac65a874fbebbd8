import type { Logger } from 'pino';
import { OkesuError } from '../errors.js';
import { newId, newIds } from '../protocol/ids.js';
import type { CreateRunRequest, FanOutRequest, FanOutResponse, RunSpec, RunView } from '../protocol/api.js';
import type { DispatchEnvelope } from '../protocol/dispatch.js';
import type { DispatchRoute } from '../transport/types.js';
import type { Store } from './store/store.js';
import type { OperatorIdentity } from './http/operator-auth.js';
import { parseAgent } from '../specs/parse-agent.js';
import type { NewRun } from './store/runs.js';
import { resolveFanOutHosts, sendInTurns } from './fan-out.js';
import { authorizeDefinition, definitionAudit, definitionOrigin } from './definition-trust.js';

/**
 * The CP's expectation of a run's timeout, for its overdue sweep: the operator's, else the agent definition's own,
 * else 5 minutes. The host applies the operator's, else the timeout of the agent file it runs, and says which in
 * `run_start` (the CP then keeps that one).
 */
export function runTimeoutMs(requested: number | undefined, definition: string | undefined): number {
  if (requested !== undefined) return requested;
  if (definition !== undefined) {
    const parsed = parseAgent(definition, '<dispatch>');
    if (parsed.ok) return parsed.agent.timeoutMs;
  }
  return 300_000;
}

/** The route name a run records: `tunnel` or `jobs`. */
const routeName = (route: DispatchRoute): 'tunnel' | 'jobs' => (route.name === 'jobs' ? 'jobs' : 'tunnel');

// How long past its timeout the CP waits for a host's own run_end before it ends the run itself.
const TIMEOUT_GRACE_MS = 30_000;

/**
 * Creates run records and sends dispatches over the first route that reaches the host (SPEC §3.3); cancels;
 * ends runs whose host never reported an end. Every action is audited; every status change goes to the feed.
 */
export function createDispatcher(deps: {
  store: Store;
  /** In order of preference (`auto` takes the first that reaches the host): the tunnel, then the jobs bucket. */
  routes: readonly DispatchRoute[];
  now: () => number;
  log: Logger;
  publishRun: (run: RunView, cursor: number) => void;
  resolveDefinition?: (agent: string) => string | undefined;
  /** Counts dispatches by result (`/metrics`): sent (a route took it), failed (none reached the host, or the send failed), refused (by the host). */
  onDispatched?: (result: 'sent' | 'failed' | 'refused', n: number) => void;
}): Dispatcher {
  const counted = (result: 'sent' | 'failed' | 'refused', n: number): void => {
    if (n > 0) deps.onDispatched?.(result, n);
  };
  let sweeper: NodeJS.Timeout | undefined;

  const changed = (runId: string): RunView | undefined => {
    const run = deps.store.runs.get(runId);
    if (run) deps.publishRun(run, deps.store.feed.append(deps.now(), 'run', run));
    return run;
  };
  const end = (runId: string, status: 'failed' | 'timeout' | 'cancelled', error: string): RunView | undefined =>
    deps.store.transaction(() => (deps.store.runs.transition(runId, status, deps.now(), error) ? changed(runId) : deps.store.runs.get(runId)));

  /** Ends many runs in one transaction (fan-out send failures, timeout sweeps); publishes after the commit. */
  const endMany = (ends: ReadonlyArray<{ runId: string; status: 'failed' | 'timeout'; error: string }>): Map<string, RunView> => {
    const at = deps.now();
    const published = deps.store.transaction(() =>
      ends.flatMap(({ runId, status, error }) => {
        if (!deps.store.runs.transition(runId, status, at, error)) return [];
        const run = deps.store.runs.get(runId) as RunView;
        return [{ run, cursor: deps.store.feed.append(at, 'run', run) }];
      }),
    );
    for (const p of published) deps.publishRun(p.run, p.cursor);
    return new Map(published.map((p) => [p.run.run_id, p.run]));
  };

  /** The routes a dispatch mode may use; throws when the CP has none of them. */
  const routesFor = (mode: RunSpec['dispatch']): readonly DispatchRoute[] => {
    const candidates = mode === 'auto' ? deps.routes : deps.routes.filter((r) => r.name === mode);
    if (candidates.length === 0) {
      throw new OkesuError('OKS_ERR_HOST_UNREACHABLE', mode === 'jobs' ? 'no bucket configured on this CP (cp serve --bucket)' : `the ${mode} transport is not configured on this CP`);
    }
    return candidates;
  };
  // Each route tried says why it cannot; `auto` on a CP without a bucket says that too.
  const unreachable = (hostname: string, candidates: readonly DispatchRoute[]): string => {
    const why = candidates.map((r) => r.whyNot(hostname) ?? `not reachable over ${r.name}`);
    if (candidates.length === deps.routes.length && !deps.routes.some((r) => r.name === 'jobs')) why.push('no bucket configured on this CP');
    return `${hostname} is not reachable: ${why.join('; ')}`;
  };
  const pickRoute = (hostname: string, mode: CreateRunRequest['dispatch']): DispatchRoute => {
    const candidates = routesFor(mode);
    const route = candidates.find((r) => r.canReach(hostname));
    if (!route) throw new OkesuError('OKS_ERR_HOST_UNREACHABLE', unreachable(hostname, candidates));
    return route;
  };
  // Only the operator's own timeout travels: otherwise the host applies the timeout of the agent file it runs.
  const envelopeFor = (spec: RunSpec, runId: string, definition: string | undefined): DispatchEnvelope => ({
    run_id: runId, agent: spec.agent, definition, prompt: spec.prompt, inputs: spec.inputs, timeout_ms: spec.timeout_ms, dispatch: spec.dispatch,
  });

  return {
    /** Dispatches an agent to a host; the run record exists before the host hears of it. */
    async createRun(req: CreateRunRequest, by: OperatorIdentity): Promise<RunView> {
      const origin = definitionOrigin(req.agent, req.definition, deps.resolveDefinition);
      authorizeDefinition(origin, req.agent, by);
      if (!deps.store.hosts.get(req.host)) throw new OkesuError('OKS_ERR_NOT_FOUND', `no host named ${req.host}`);
      const route = pickRoute(req.host, req.dispatch);
      const now = deps.now();
      const definition = req.definition ?? deps.resolveDefinition?.(req.agent);
      const envelope = envelopeFor(req, newId('r', now), definition);
      const run = deps.store.transaction(() => {
        deps.store.runs.insert({
          run_id: envelope.run_id, host: req.host, agent: req.agent, prompt: req.prompt, inputs: req.inputs,
          status: 'dispatched', created_at: now, timeout_ms: runTimeoutMs(req.timeout_ms, definition), created_by: by.name, route: routeName(route),
        });
        deps.store.audit.record(now, by, 'run.dispatch', envelope.run_id, { host: req.host, agent: req.agent, route: route.name, ...definitionAudit(origin, by) });
        return changed(envelope.run_id) as RunView;
      });
      try {
        await route.dispatch(req.host, envelope);
      } catch (err) {
        counted('failed', 1);
        return end(envelope.run_id, 'failed', `dispatch failed: ${(err as Error).message}`) ?? run;
      }
      counted('sent', 1);
      return run;
    },
    /**
     * Dispatches an agent to many hosts: every run is created in one transaction with one audit entry, then the
     * dispatches go out in turns of the event loop. A host no route reaches gets a run that is already `failed`, saying why.
     */
    async createRuns(req: FanOutRequest, by: OperatorIdentity): Promise<FanOutResponse> {
      const origin = definitionOrigin(req.agent, req.definition, deps.resolveDefinition);
      authorizeDefinition(origin, req.agent, by);
      const hostnames = resolveFanOutHosts(deps.store.hosts, req);
      const candidates = routesFor(req.dispatch);
      const now = deps.now();
      const definition = req.definition ?? deps.resolveDefinition?.(req.agent);
      const timeoutMs = runTimeoutMs(req.timeout_ms, definition);
      const runIds = newIds('r', now, hostnames.length);
      const planned = hostnames.map((host, i) => {
        const route = candidates.find((r) => r.canReach(host));
        const run: NewRun = {
          run_id: runIds[i] as string, host, agent: req.agent, prompt: req.prompt, inputs: req.inputs,
          status: route ? 'dispatched' : 'failed', created_at: now, timeout_ms: timeoutMs, created_by: by.name,
          ...(route ? { route: routeName(route) } : { ended_at: now, error: unreachable(host, candidates) }),
        };
        return { run, route };
      });
      const reached = planned.filter((p) => p.route).length;
      const runs = deps.store.transaction(() => {
        deps.store.audit.record(now, by, 'run.fan_out', 'selector' in req ? req.selector : `${hostnames.length} hosts`, {
          agent: req.agent, hosts: hostnames.length, dispatched: reached, unreachable: hostnames.length - reached, ...definitionAudit(origin, by),
          ...('selector' in req ? { selector: req.selector } : hostnames.length <= 20 ? { host_list: hostnames } : {}),
        });
        // Many rows per statement where the store can (Postgres): a fan-out's transaction holds the writer lock.
        deps.store.runs.insertMany(planned.map((p) => p.run));
        const views = planned.map(({ run }) => deps.store.runs.viewOf(run));
        const cursors = deps.store.feed.appendMany(now, 'run', views);
        return views.map((view, i) => ({ view, cursor: cursors[i] as number }));
      });
      // Published in cursor order right after the commit, before any later change to these runs can be.
      for (const r of runs) deps.publishRun(r.view, r.cursor);
      const toSend = planned.filter((p): p is { run: NewRun; route: DispatchRoute } => p.route !== undefined);
      const failedSends = await sendInTurns(toSend, ({ run, route }) => route.dispatch(run.host, envelopeFor(req, run.run_id, definition)));
      counted('sent', toSend.length - failedSends.length);
      counted('failed', planned.length - reached + failedSends.length);
      const ended = endMany(failedSends.map(({ item, err }) => ({ runId: item.run.run_id, status: 'failed', error: `dispatch failed: ${err.message}` })));
      const views = runs.map((r) => ended.get(r.view.run_id) ?? r.view);
      return { runs: views, dispatched: views.filter((v) => v.status === 'dispatched').length, failed: views.filter((v) => v.status === 'failed').length };
    },
    /** Cancels a run: tells the host if reachable, else ends it here at once. */
    async cancel(runId: string, by: OperatorIdentity, reason: string): Promise<RunView> {
      const run = deps.store.runs.get(runId);
      if (!run) throw new OkesuError('OKS_ERR_NOT_FOUND', `no run ${runId}`);
      if (run.status !== 'dispatched' && run.status !== 'running') throw new OkesuError('OKS_ERR_RUN_FINISHED', `${runId} is ${run.status}`);
      deps.store.audit.record(deps.now(), by, 'run.cancel', runId, { host: run.host, reason });
      const route = deps.routes.find((r) => r.canReach(run.host));
      if (route) {
        await route.cancel(run.host, runId, reason);
        return run;
      }
      return end(runId, 'cancelled', `${reason} (host unreachable; it is told when it reconnects)`) ?? run;
    },
    /** A host refused or accepted a dispatch. */
    onDispatchAck(hostname: string, runId: string, accepted: boolean, error?: { code: string; message: string }): void {
      // An acceptance changes nothing here (the host's run_start does): no read, which matters when 10,000 arrive at once.
      if (accepted) return;
      const run = deps.store.runs.get(runId);
      if (!run || run.host !== hostname) return;
      counted('refused', 1);
      end(runId, 'failed', error ? `${error.code}: ${error.message}` : 'the host refused the dispatch');
    },
    /** A host (re)connected listing its running runs: cancel those the CP already ended (cancelled or timed out meanwhile). */
    onHello(hostname: string, running: readonly string[]): void {
      for (const runId of running) {
        const run = deps.store.runs.get(runId);
        if (run && run.host === hostname && (run.status === 'cancelled' || run.status === 'timeout')) {
          void deps.routes.find((r) => r.canReach(hostname))?.cancel(hostname, runId, `run already ${run.status} at the CP`).catch(() => undefined);
        }
      }
    },
    /** Ends runs that outlived timeout + grace without a run_end from their host. */
    sweepTimeouts(): void {
      // One transaction for the whole sweep: a fan-out can time out thousands of runs at once.
      const overdue = deps.store.runs.overdue(deps.now() - TIMEOUT_GRACE_MS);
      endMany(overdue.map((run) => ({ runId: run.run_id, status: 'timeout', error: `no run_end from ${run.host} within the ${Math.round(run.timeout_ms / 1000)} s timeout` })));
      for (const run of overdue) {
        // One route is enough: the first that reaches the host (the tunnel while it is up).
        void deps.routes.find((r) => r.canReach(run.host))?.cancel(run.host, run.run_id, 'timed out at the CP').catch(() => undefined);
      }
    },
    start(): void {
      sweeper = setInterval(() => {
        // A sweep the store refuses is simply made again on the next tick; an uncaught error would end the CP.
        try {
          this.sweepTimeouts();
        } catch (err) {
          if (!deps.store.health.failed(err, 'run timeout sweep')) deps.log.error({ err }, 'run timeout sweep failed');
        }
      }, 5_000);
      sweeper.unref();
    },
    stop(): void {
      if (sweeper) clearInterval(sweeper);
    },
  };
}
/**
 * The dispatcher: creates runs and sends them to hosts over the first route that reaches each, cancels them, and ends
 * the ones whose host never reported an end. Every action is audited; every status change goes to the feed.
 */
export interface Dispatcher {
  /** Dispatches an agent to one host; the run record exists (status `dispatched`) before the host hears of it. */
  createRun(req: CreateRunRequest, by: OperatorIdentity): Promise<RunView>;
  /** Dispatches an agent to many hosts (a list or a label selector): one transaction for the records, N sends. */
  createRuns(req: FanOutRequest, by: OperatorIdentity): Promise<FanOutResponse>;
  /** Cancels a run: tells the host when a route reaches it, else ends the run here at once. */
  cancel(runId: string, by: OperatorIdentity, reason: string): Promise<RunView>;
  /** A host accepted or refused a dispatch (its `ack`); a refusal fails the run with the host's error. */
  onDispatchAck(hostname: string, runId: string, accepted: boolean, error?: { code: string; message: string }): void;
  /** A host (re)connected listing its running runs: cancels those the CP already ended (cancelled or timed out meanwhile). */
  onHello(hostname: string, running: readonly string[]): void;
  /** Ends runs that outlived their timeout plus a grace period without a `run_end` from their host. */
  sweepTimeouts(): void;
  /** Starts the timeout sweep (every 5 s). */
  start(): void;
  /** Stops the timeout sweep. */
  stop(): void;
}
