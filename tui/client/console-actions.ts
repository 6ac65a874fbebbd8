import type { Logger } from 'pino';
import type { TriageStatus } from '../../src/protocol/finding.js';
import type { CreateRunInput, CreateRunsInput, OperatorClient } from '../../src/transport/operator-client.js';
import type { ConsoleStore } from '../store/console-store.js';
import type { ConsoleActions } from './actions.js';
import { reportFailure, type Flasher } from './flash.js';
import type { TranscriptFollower } from './transcript-follower.js';

/** What a triage to `status` did, as the flash says it ("acknowledged 3 findings"). */
const TRIAGE_VERBS: Record<TriageStatus, string> = {
  open: 'reopened',
  acknowledged: 'acknowledged',
  resolved: 'resolved',
  false_positive: 'marked false positive',
};

/** "1 finding", "3 findings". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** What the actions need besides the API client. */
export interface ActionDeps {
  client: OperatorClient;
  store: ConsoleStore;
  log: Logger;
  flash: Flasher;
  transcripts: TranscriptFollower;
  /** Called after a triage: the counts and groups are refreshed soon after. */
  onTriaged(): void;
  /** A full reload. */
  reload(): void;
  quit(): void;
}

/**
 * The console's CP-side actions: each calls the API, applies the answer to the store, and flashes the outcome (or
 * the CP's error message, logged too). None throws or rejects.
 */
export function createConsoleActions(deps: ActionDeps): ConsoleActions {
  const { client, store, log, flash } = deps;

  /** Runs `fn`, reporting a failure as `what failed: <message>`; resolves to `fallback` then. */
  const attempt = async <T>(what: string, fallback: T, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      reportFailure(log, flash, what, err);
      return fallback;
    }
  };

  return {
    triage: (findingId, status, scope) =>
      attempt(`triage of finding ${findingId}`, undefined, async () => {
        const triage = await client.triageFinding(findingId, { status, scope });
        store.dispatch({ type: 'triaged', triage });
        // A false positive's suggested host suppression is too long for the flash: point at the command that prints it.
        const hint = triage.suggested_suppress ? ` · to drop it on the host: okesu findings triage ${findingId} false_positive prints a policy suppress: entry` : '';
        flash(`${TRIAGE_VERBS[status]} ${plural(triage.updated, 'finding')}${hint}`);
        deps.onTriaged();
      }),
    approveStep: (runId, step) =>
      attempt(`approving step ${step}`, undefined, async () => {
        store.dispatch({ type: 'orchestration-run', run: await client.approveStep(runId, step) });
        flash(`approved step ${step}`);
      }),
    rejectStep: (runId, step) =>
      attempt(`rejecting step ${step}`, undefined, async () => {
        store.dispatch({ type: 'orchestration-run', run: await client.rejectStep(runId, step) });
        flash(`rejected step ${step}`);
      }),
    cancelOrchestrationRun: (id) =>
      attempt(`cancelling ${id}`, undefined, async () => {
        const run = await client.cancelOrchestrationRun(id);
        store.dispatch({ type: 'orchestration-run', run });
        flash(`cancelled orchestration run ${run.name} (${id})`);
      }),
    cancelRun: (runId) =>
      attempt(`cancelling ${runId}`, undefined, async () => {
        const run = await client.cancelRun(runId);
        store.dispatch({ type: 'run', run });
        flash(`cancelled run ${runId} (${run.agent} on ${run.host})`);
      }),
    dispatchAgent: (request) =>
      attempt(`dispatching ${request.agent}`, [] as string[], () => dispatchAgent(deps, request)),
    startOrchestration: (request) =>
      attempt(`starting ${request.name ?? 'the orchestration'}`, undefined as string | undefined, async () => {
        const run = await client.startOrchestration(request);
        store.dispatch({ type: 'orchestration-run', run });
        flash(`started orchestration ${run.name} (${run.id})`);
        return run.id;
      }),
    openFinding(id) {
      void attempt(`loading finding ${id}`, undefined, async () => {
        const detail = await client.getFinding(id);
        store.dispatch({ type: 'finding-detail', id, event: detail.event });
      });
    },
    followTranscript: (runId) => deps.transcripts.follow(runId),
    stopTranscript: () => deps.transcripts.stop(),
    refresh: () => deps.reload(),
    quit: () => deps.quit(),
  };
}

/** One host (`host`) or a fan-out (`hosts` or `selector`); every created run goes to the store. */
async function dispatchAgent(deps: ActionDeps, request: CreateRunInput | CreateRunsInput): Promise<string[]> {
  if ('host' in request) {
    const run = await deps.client.createRun(request);
    deps.store.dispatch({ type: 'run', run });
    deps.flash(`dispatched ${run.agent} to ${run.host} (${run.run_id})`);
    return [run.run_id];
  }
  const answer = await deps.client.createRuns(request);
  deps.store.dispatchMany(answer.runs.map((run) => ({ type: 'run' as const, run })));
  const failed = answer.failed > 0 ? `, ${answer.failed} failed` : '';
  deps.flash(`dispatched ${request.agent} to ${plural(answer.runs.length, 'host')}${failed}`, answer.failed > 0 ? 'warn' : 'info');
  return answer.runs.map((r) => r.run_id);
}
