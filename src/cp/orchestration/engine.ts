import type { Logger } from 'pino';
import { OkesuError } from '../../errors.js';
import type { HostState, RunView } from '../../protocol/api.js';
import { newId } from '../../protocol/ids.js';
import type { OrchestrationRunView } from '../../protocol/orchestration-api.js';
import type { OrchestrationSpec } from '../../specs/orchestration/orchestration-types.js';
import { resolveTrigger } from '../../specs/orchestration/resolve-trigger.js';
import type { Dispatcher } from '../dispatcher.js';
import { TERMINAL_STATUSES } from '../store/runs.js';
import type { Actor } from '../store/audit.js';
import type { Store } from '../store/store.js';
import type { CpClock } from './clock.js';
import { RUN_DONE, actorOf, createStepRunner, endRun } from './step-runner.js';
import type { StepRecord } from './store.js';
import { runView } from './views.js';
import { createBackoff } from '../store/store-health.js';
import type { OrchestrationEngine } from './engine-contract.js';

export type { OrchestrationEngine } from './engine-contract.js';

/** What the engine needs from the CP. */
export interface EngineDeps {
  store: Store;
  dispatcher: Pick<Dispatcher, 'createRuns' | 'cancel'>;
  now: () => number;
  log: Logger;
  /** Publishes a committed `orchestration_run` feed entry on the live stream. */
  publish: (view: OrchestrationRunView, cursor: number) => void;
  /** A host's liveness now (undefined for an unknown host). */
  hostState: (hostname: string) => HostState | undefined;
  /** How long a host goes unheard before liveness calls it offline (12 heartbeat intervals of the CP's tunnel). */
  offlineAfterMs: number;
  /** The same for one host, by its own interval (a jobs-mode host's is its bucket heartbeat's); default offlineAfterMs. */
  hostOfflineAfterMs?: (hostname: string) => number;
  /**
   * After a CP restart, how long to let daimons reconnect before resuming runs (which may dispatch their next step).
   * Agent runs that end meanwhile are applied at once; only fresh dispatches wait, so they do not fail as
   * "unreachable" against hosts still on their way back. Default 0.
   */
  resumeAfterMs?: number;
  /** True when a transport can deliver to the host now (the tunnel is up). */
  canReach?: (host: string) => boolean;
  clock: CpClock;
}

/**
 * The orchestration engine (SPEC §6): starts runs, moves them step by step as agent runs end, handles approvals and
 * cancels, and resumes every unfinished run from the store after a CP restart. All state is in SQLite; changes of one
 * run are serialized on the event loop, and no method throws into a socket handler (only the API's own calls throw,
 * with catalogue errors).
 */
export function createOrchestrationEngine(deps: EngineDeps): OrchestrationEngine {
  const repo = deps.store.orchestrations;
  const chains = new Map<string, Promise<unknown>>();
  const ended = new Set<string>();
  let flushScheduled = false;
  // Agent runs that were in flight when the CP (re)started: failed if their host stays offline past the threshold.
  const watched = new Map<string, string>();
  let startedAt = 0;
  let watchTimer: unknown;
  let resumeTimer: unknown;
  let stopped = true;
  // Work the store refused (disk full, I/O error) is retried with backoff instead of being dropped.
  const retryBackoff = createBackoff(200, 30_000);
  const retrying = new Set<string>();
  /** True (and logged once per outage by the store's health) when `err` is a store failure worth retrying. */
  const storeFailed = (err: unknown, where: string): boolean => deps.store.health.failed(err, where) !== undefined;

  const load = (runId: string): OrchestrationRunView => {
    const run = repo.getRun(runId);
    if (!run) throw new OkesuError('OKS_ERR_NOT_FOUND', `no orchestration run ${runId}`);
    return runView(run, repo.steps(runId), repo.hosts(runId));
  };
  const commit = (runId: string, mutate: (at: number) => void): OrchestrationRunView => {
    const at = deps.now();
    const written = deps.store.transaction(() => {
      mutate(at);
      const view = load(runId);
      return { view, cursor: deps.store.feed.append(at, 'orchestration_run', view) };
    });
    deps.publish(written.view, written.cursor);
    return written.view;
  };
  // After a restart with runs in flight, a step dispatched before its hosts have reconnected would fail them as
  // unreachable; within the reconnect window the dispatch waits (polling) for them instead.
  let reconnectWindowEnds = 0;
  const awaitReachable = async (hosts: readonly string[]): Promise<void> => {
    const canReach = deps.canReach;
    if (!canReach) return;
    while (deps.now() < reconnectWindowEnds && !stopped && !hosts.every((h) => canReach(h))) {
      await new Promise<void>((resolve) => deps.clock.setTimer(resolve, 100));
    }
  };
  const runner = createStepRunner({ store: deps.store, dispatcher: deps.dispatcher, log: deps.log, commit, awaitReachable });

  /** Runs `fn` after every earlier change of the same run has finished. */
  const serial = <T>(runId: string, fn: () => Promise<T> | T): Promise<T> => {
    const prev = chains.get(runId) ?? Promise.resolve();
    const next = prev.then(fn);
    const tail = next.catch(() => undefined);
    chains.set(runId, tail);
    void tail.then(() => {
      if (chains.get(runId) === tail) chains.delete(runId);
    });
    return next;
  };
  /** Reconciles and advances a run in the background; failures are logged, never thrown; store failures are retried. */
  const kick = (runId: string): void => {
    serial(runId, async () => {
      runner.reconcile(runId);
      await runner.advance(runId);
    }).then(
      () => retryBackoff.reset(),
      (err: unknown) => {
        if (storeFailed(err, 'orchestration advance')) retryKick(runId);
        else deps.log.error({ err, orchestration_run: runId }, 'orchestration run could not advance');
      },
    );
  };
  function retryKick(runId: string): void {
    if (stopped || retrying.has(runId)) return;
    retrying.add(runId);
    deps.clock.setTimer(() => {
      retrying.delete(runId);
      if (!stopped) kick(runId);
    }, retryBackoff.next());
  }

  const flushEnded = (): void => {
    flushScheduled = false;
    if (stopped) return;
    const ids = [...ended];
    ended.clear();
    const runs = new Set<string>();
    try {
      for (const id of ids) {
        const h = repo.hostByAgentRun(id);
        if (h && h.status === 'running') runs.add(h.run_id);
      }
    } catch (err) {
      // Nothing was lost: the ended runs are looked up again later.
      for (const id of ids) ended.add(id);
      if (!storeFailed(err, 'orchestration run ends')) deps.log.error({ err }, 'looking up ended agent runs failed');
      deps.clock.setTimer(() => {
        if (!flushScheduled) flushEnded();
      }, retryBackoff.next());
      return;
    }
    for (const runId of runs) kick(runId);
  };

  const startWith = async (spec: OrchestrationSpec, trigger: Record<string, unknown>, triggeredBy: string, by: Actor): Promise<OrchestrationRunView> => {
    const now = deps.now();
    const id = newId('o', now);
    const steps: StepRecord[] = spec.steps.map((s, idx) => ({
      run_id: id, idx, step_id: s.id, agent: s.agent, status: 'pending', rendered: null, approved: false, result: null, error: null,
      started_at: null, ended_at: null, decided_by: null,
    }));
    commit(id, (at) => {
      repo.insertRun(
        { id, name: spec.name, spec, status: 'pending', trigger, triggered_by: triggeredBy, created_at: at, updated_at: at, ended_at: null, error: null },
        steps,
      );
      deps.store.audit.record(at, by, 'orchestration.run', id, { name: spec.name, triggered_by: triggeredBy });
    });
    // The run is stored: from here a store failure must not fail the start (a trigger would start it again), the
    // first step is retried instead.
    try {
      await serial(id, () => runner.advance(id));
    } catch (err) {
      if (!storeFailed(err, 'orchestration advance')) throw err;
      retryKick(id);
    }
    return load(id);
  };

  /** Finds a run and a step of it in the state an approval decision needs; throws 404/409 otherwise. */
  const awaitingDecision = (runId: string, stepId: string) => {
    const run = repo.getRun(runId);
    if (!run) throw new OkesuError('OKS_ERR_NOT_FOUND', `no orchestration run ${runId}`);
    const steps = repo.steps(runId);
    const step = steps.find((s) => s.step_id === stepId);
    if (!step) throw new OkesuError('OKS_ERR_NOT_FOUND', `run ${runId} has no step ${stepId}`);
    if (run.status !== 'approval_required' || step.status !== 'waiting_approval') {
      throw new OkesuError('OKS_ERR_STATE', `step ${stepId} is ${step.status} and the run is ${run.status}; only a step waiting_approval can be approved or rejected`);
    }
    return { run, steps, step };
  };

  const armWatch = (): void => {
    if (watchTimer === undefined && watched.size > 0) watchTimer = deps.clock.setTimer(checkOffline, Math.max(100, Math.min(deps.offlineAfterMs / 4, 5000)));
  };
  const checkOffline = (): void => {
    watchTimer = undefined;
    if (stopped) return;
    try {
      checkWatched();
    } catch (err) {
      if (!storeFailed(err, 'orchestration offline check')) deps.log.error({ err }, 'checking agent runs of offline hosts failed');
    }
    armWatch();
  };
  const checkWatched = (): void => {
    const now = deps.now();
    for (const [agentRunId, host] of watched) {
      const h = repo.hostByAgentRun(agentRunId);
      const agentRun = deps.store.runs.get(agentRunId);
      if (!h || h.status !== 'running' || !agentRun || TERMINAL_STATUSES.has(agentRun.status)) {
        watched.delete(agentRunId);
        continue;
      }
      if (now - startedAt < deps.offlineAfterMs || deps.hostState(host) === 'online' || deps.hostState(host) === 'stale') continue;
      watched.delete(agentRunId);
      const silentMs = deps.hostOfflineAfterMs?.(host) ?? deps.offlineAfterMs;
      const reason = `host ${host} went offline (not heard from for over ${Math.round(silentMs / 1000)} s) while agent run ${agentRunId} was in flight`;
      serial(h.run_id, async () => {
        const fresh = repo.hostByAgentRun(agentRunId);
        if (!fresh || fresh.status !== 'running') return;
        commit(h.run_id, () => {
          fresh.status = 'failed';
          fresh.error = reason;
          repo.saveHost(fresh);
        });
        deps.dispatcher.cancel(agentRunId, actorOf({ id: h.run_id, name: repo.getRun(h.run_id)?.name ?? '' }), reason).catch(() => undefined);
        runner.reconcile(h.run_id);
        await runner.advance(h.run_id);
      }).catch((err: unknown) => {
        if (storeFailed(err, 'orchestration offline check')) {
          // Watched again: the host is failed on a later check, once the store takes writes.
          watched.set(agentRunId, host);
          if (!stopped) armWatch();
        } else deps.log.error({ err, orchestration_run: h.run_id }, 'failing an offline host run failed');
      });
    }
  };

  return {
    /** Resumes every unfinished run from the store (agent runs that ended while the CP was down are applied). */
    start(): void {
      stopped = false;
      startedAt = deps.now();
      const resume: string[] = [];
      for (const run of repo.activeRuns()) {
        for (const h of repo.hosts(run.id)) if (h.status === 'running' && h.agent_run_id) watched.set(h.agent_run_id, h.host);
        if (run.status !== 'approval_required') resume.push(run.id);
      }
      if (resume.length > 0) reconnectWindowEnds = startedAt + (deps.resumeAfterMs ?? 0);
      const resumeAll = (): void => {
        for (const id of resume) if (!stopped) kick(id);
      };
      if ((deps.resumeAfterMs ?? 0) > 0 && resume.length > 0) resumeTimer = deps.clock.setTimer(resumeAll, deps.resumeAfterMs ?? 0);
      else resumeAll();
      armWatch();
    },
    stop(): void {
      stopped = true;
      if (watchTimer !== undefined) deps.clock.clearTimer(watchTimer);
      if (resumeTimer !== undefined) deps.clock.clearTimer(resumeTimer);
    },
    /** Waits until every change queued so far has finished (shutdown, tests). */
    async idle(): Promise<void> {
      while (chains.size > 0 || flushScheduled) {
        await Promise.all([...chains.values()]);
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
    /** An agent run changed (ingest, timeout sweep, refusal, cancel): its step moves on once it has ended. */
    onRunChanged(run: RunView): void {
      if (stopped || !TERMINAL_STATUSES.has(run.status)) return;
      ended.add(run.run_id);
      // Deferred: the dispatcher may report from inside its own transaction.
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flushEnded);
      }
    },
    /** Starts a run of a spec with a manual run's inputs; 400 names a bad input. */
    run(spec: OrchestrationSpec, inputs: Record<string, unknown>, by: Actor): Promise<OrchestrationRunView> {
      const resolved = resolveTrigger(spec, inputs);
      if (!resolved.ok) throw new OkesuError('OKS_ERR_BAD_REQUEST', resolved.error);
      return startWith(spec, resolved.trigger, by.name, by);
    },
    /** Starts a run from a trigger (cron, finding): `fields` are bound under `trigger`, over the inputs' defaults. */
    async runTriggered(spec: OrchestrationSpec, fields: Record<string, unknown>, triggeredBy: string): Promise<OrchestrationRunView | undefined> {
      const declared = Object.fromEntries(Object.keys(spec.inputs).filter((k) => fields[k] !== undefined).map((k) => [k, fields[k]]));
      const resolved = resolveTrigger(spec, declared);
      if (!resolved.ok) {
        deps.log.warn({ orchestration: spec.name, triggered_by: triggeredBy, reason: resolved.error }, 'trigger fired but the run could not start');
        return undefined;
      }
      return startWith(spec, { ...fields, ...resolved.trigger }, triggeredBy, { name: triggeredBy, role: 'system' });
    },
    /** Approves a step waiting for approval: it runs with the prompt, inputs and targets rendered when it was reached. */
    approve(runId: string, stepId: string, by: Actor, reason: string | undefined): Promise<OrchestrationRunView> {
      return serial(runId, async () => {
        const { run, step } = awaitingDecision(runId, stepId);
        commit(runId, (at) => {
          step.status = 'pending';
          step.approved = true;
          step.decided_by = by.name;
          repo.saveStep(step);
          run.status = 'running';
          run.updated_at = at;
          repo.saveRun(run);
          deps.store.audit.record(at, by, 'orchestration.approve', runId, { step: stepId, ...(reason ? { reason } : {}) });
        });
        await runner.advance(runId);
        return load(runId);
      });
    },
    /** Rejects a step waiting for approval: the step fails and the run ends failed. */
    reject(runId: string, stepId: string, by: Actor, reason: string | undefined): Promise<OrchestrationRunView> {
      return serial(runId, () => {
        const { run, steps, step } = awaitingDecision(runId, stepId);
        const error = `rejected by ${by.name}${reason ? `: ${reason}` : ''}`;
        return commit(runId, (at) => {
          step.status = 'failed';
          step.error = error;
          step.decided_by = by.name;
          step.ended_at = at;
          repo.saveStep(step);
          endRun(deps.store, run, steps, 'failed', `step ${stepId} ${error}`, at);
          deps.store.audit.record(at, by, 'orchestration.reject', runId, { step: stepId, ...(reason ? { reason } : {}) });
        });
      });
    },
    /** Cancels a run: steps not reached are skipped, the running one fails, and its agent runs are cancelled on the hosts. */
    cancel(runId: string, by: Actor, reason: string | undefined): Promise<OrchestrationRunView> {
      return serial(runId, async () => {
        const run = repo.getRun(runId);
        if (!run) throw new OkesuError('OKS_ERR_NOT_FOUND', `no orchestration run ${runId}`);
        if (RUN_DONE.has(run.status)) throw new OkesuError('OKS_ERR_STATE', `run ${runId} is already ${run.status}`);
        const why = `cancelled by ${by.name}${reason ? `: ${reason}` : ''}`;
        const steps = repo.steps(runId);
        const inFlight: string[] = [];
        const view = commit(runId, (at) => {
          for (const s of steps.filter((x) => x.status === 'running')) {
            for (const h of repo.hosts(runId)) {
              if (h.idx !== s.idx || (h.status !== 'running' && h.status !== 'pending')) continue;
              if (h.agent_run_id) inFlight.push(h.agent_run_id);
              h.status = 'failed';
              h.error = why;
              repo.saveHost(h);
            }
            s.status = 'failed';
            s.error = why;
            s.ended_at = at;
            repo.saveStep(s);
          }
          endRun(deps.store, run, steps, 'cancelled', why, at);
          deps.store.audit.record(at, by, 'orchestration.cancel', runId, { ...(reason ? { reason } : {}), agent_runs: inFlight.length });
        });
        for (const agentRunId of inFlight) {
          await deps.dispatcher.cancel(agentRunId, actorOf(run), why).catch((err: unknown) => deps.log.debug({ err, run_id: agentRunId }, 'agent run not cancelled'));
        }
        return view;
      });
    },
    /** A run's view; 404 when there is none. */
    view: load,
  };
}
