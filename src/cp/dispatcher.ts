import type { Logger } from 'pino';
import { OkesuError } from '../errors.js';
import { newId } from '../protocol/ids.js';
import type { CreateRunRequest, RunView } from '../protocol/api.js';
import type { DispatchEnvelope } from '../protocol/dispatch.js';
import type { DispatchRoute } from '../transport/types.js';
import type { Store } from './store/store.js';
import type { OperatorIdentity } from './http/operator-auth.js';
import { parseAgent } from '../specs/parse-agent.js';

/** Run timeout: the operator's, else the agent definition's own, else 5 minutes. */
export function runTimeoutMs(requested: number | undefined, definition: string | undefined): number {
  if (requested !== undefined) return requested;
  if (definition !== undefined) {
    const parsed = parseAgent(definition, '<dispatch>');
    if (parsed.ok) return parsed.agent.timeoutMs;
  }
  return 300_000;
}

// How long past its timeout the CP waits for a host's own run_end before it ends the run itself.
const TIMEOUT_GRACE_MS = 30_000;

/**
 * Creates run records and sends dispatches over the first route that reaches the host (SPEC §3.3); cancels;
 * ends runs whose host never reported an end. Every action is audited; every status change goes to the feed.
 */
export function createDispatcher(deps: {
  store: Store;
  routes: readonly DispatchRoute[];
  now: () => number;
  log: Logger;
  publishRun: (run: RunView, cursor: number) => void;
  resolveDefinition?: (agent: string) => string | undefined;
}) {
  let sweeper: NodeJS.Timeout | undefined;

  const changed = (runId: string): RunView | undefined => {
    const run = deps.store.runs.get(runId);
    if (run) deps.publishRun(run, deps.store.feed.append(deps.now(), 'run', run));
    return run;
  };
  const end = (runId: string, status: 'failed' | 'timeout' | 'cancelled', error: string): RunView | undefined =>
    deps.store.transaction(() => (deps.store.runs.transition(runId, status, deps.now(), error) ? changed(runId) : deps.store.runs.get(runId)));

  const pickRoute = (hostname: string, mode: CreateRunRequest['dispatch']): DispatchRoute => {
    const candidates = mode === 'auto' ? deps.routes : deps.routes.filter((r) => r.name === mode);
    if (candidates.length === 0) throw new OkesuError('OKS_ERR_HOST_UNREACHABLE', `the ${mode} transport is not configured on this CP`);
    const route = candidates.find((r) => r.canReach(hostname));
    if (!route) {
      const tried = candidates.map((r) => r.name).join(', ');
      throw new OkesuError('OKS_ERR_HOST_UNREACHABLE', `${hostname} is not reachable over ${tried} (no tunnel connected${deps.routes.some((r) => r.name === 'jobs') ? '' : ', no jobs bucket configured'})`);
    }
    return route;
  };

  return {
    /** Dispatches an agent to a host; the run record exists before the host hears of it. */
    async createRun(req: CreateRunRequest, by: OperatorIdentity): Promise<RunView> {
      if (!deps.store.hosts.get(req.host)) throw new OkesuError('OKS_ERR_NOT_FOUND', `no host named ${req.host}`);
      const route = pickRoute(req.host, req.dispatch);
      const now = deps.now();
      const definition = req.definition ?? deps.resolveDefinition?.(req.agent);
      const envelope: DispatchEnvelope = {
        run_id: newId('r', now),
        agent: req.agent,
        definition,
        prompt: req.prompt,
        inputs: req.inputs,
        timeout_ms: runTimeoutMs(req.timeout_ms, definition),
        dispatch: req.dispatch,
      };
      const run = deps.store.transaction(() => {
        deps.store.runs.insert({
          run_id: envelope.run_id, host: req.host, agent: req.agent, prompt: req.prompt, inputs: req.inputs,
          status: 'dispatched', created_at: now, timeout_ms: envelope.timeout_ms, created_by: by.name,
        });
        deps.store.audit.record(now, by, 'run.dispatch', envelope.run_id, { host: req.host, agent: req.agent, route: route.name });
        return changed(envelope.run_id) as RunView;
      });
      try {
        await route.dispatch(req.host, envelope);
      } catch (err) {
        return end(envelope.run_id, 'failed', `dispatch failed: ${(err as Error).message}`) ?? run;
      }
      return run;
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
      const run = deps.store.runs.get(runId);
      if (!run || run.host !== hostname) return;
      if (!accepted) end(runId, 'failed', error ? `${error.code}: ${error.message}` : 'the host refused the dispatch');
    },
    /** A host (re)connected listing its running runs: cancel those the CP already ended (cancelled or timed out meanwhile). */
    onHello(hostname: string, running: readonly string[]): void {
      for (const runId of running) {
        const run = deps.store.runs.get(runId);
        if (run && run.host === hostname && (run.status === 'cancelled' || run.status === 'timeout')) {
          for (const r of deps.routes) if (r.canReach(hostname)) void r.cancel(hostname, runId, `run already ${run.status} at the CP`);
        }
      }
    },
    /** Ends runs that outlived timeout + grace without a run_end from their host. */
    sweepTimeouts(): void {
      for (const run of deps.store.runs.overdue(deps.now() - TIMEOUT_GRACE_MS)) {
        end(run.run_id, 'timeout', `no run_end from ${run.host} within the ${Math.round(run.timeout_ms / 1000)} s timeout`);
        for (const r of deps.routes) if (r.canReach(run.host)) void r.cancel(run.host, run.run_id, 'timed out at the CP');
      }
    },
    start(): void {
      sweeper = setInterval(() => this.sweepTimeouts(), 5_000);
      sweeper.unref();
    },
    stop(): void {
      if (sweeper) clearInterval(sweeper);
    },
  };
}
/** The dispatcher. */
export type Dispatcher = ReturnType<typeof createDispatcher>;
