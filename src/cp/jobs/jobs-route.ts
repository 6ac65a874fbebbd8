import type { Logger } from 'pino';
import type { Bucket } from '../../transport/bucket/bucket.js';
import type { BucketLayout } from '../../protocol/bucket-layout.js';
import { hostParty } from '../../protocol/bucket-objects.js';
import { encodeObject, type ObjectSigner } from '../../transport/bucket/signed-object.js';
import type { DispatchEnvelope } from '../../protocol/dispatch.js';
import type { RunView } from '../../protocol/api.js';
import type { DispatchRoute } from '../../transport/types.js';
import type { HostStanding } from '../liveness.js';
import { TERMINAL_STATUSES } from '../store/runs.js';
import { runTimeoutMs } from '../dispatcher.js';
import type { InboxCleanup } from './inbox-cleanup.js';

/** How long past its run's timeout a job object stays valid (the host may pick it up late in its poll). */
const JOB_GRACE_MS = 60_000;
/** Lifetime of a cancel object. */
const CANCEL_TTL_MS = 86_400_000;

/** The jobs route: a DispatchRoute over the bucket, plus what the CP tells it about runs. */
export interface JobsRoute extends DispatchRoute {
  /**
   * A run changed: when a run the bucket carried ended, its inbox objects are deleted (off this call's path). `by` says
   * who ended it: the host (its run_end was ingested: job, claim and cancel go) or the CP (a timeout, a cancel of an
   * unreachable host: only the job goes, so no poller starts it; the cancel and the claim stay for the host that may
   * still be running it, and go with its exit object).
   */
  onRunChanged(run: Pick<RunView, 'run_id' | 'host' | 'status' | 'route'>, by: 'host' | 'cp'): void;
}

/**
 * Dispatch through the bucket (SPEC §3.2): a job is a signed object in the host's inbox (signed with the CA key, party
 * `cp`); a cancel another. A host is reachable this way when it uses the bucket (its bucket heartbeats, or its hello
 * naming one) and is not offline by its own interval. Objects of runs that ended are deleted in batches.
 */
export function createJobsRoute(deps: {
  bucket: Bucket;
  layout: BucketLayout;
  signer: ObjectSigner;
  standing: (hostname: string) => HostStanding | undefined;
  cleanup: InboxCleanup;
  now: () => number;
  log: Logger;
}): JobsRoute {
  // Runs of other routes that got a cancel through the bucket: their cancel object is cleaned when they end too.
  const cancelled = new Set<string>();
  // A fan-out sends one definition to every host: its timeout is parsed from the agent file once, not once per job.
  let lastTimeout: { timeoutMs: number | undefined; definition: string | undefined; value: number } | undefined;
  const timeoutOf = (envelope: DispatchEnvelope): number => {
    const last = lastTimeout;
    if (last && last.timeoutMs === envelope.timeout_ms && last.definition === envelope.definition) return last.value;
    const value = runTimeoutMs(envelope.timeout_ms, envelope.definition);
    lastTimeout = { timeoutMs: envelope.timeout_ms, definition: envelope.definition, value };
    return value;
  };
  const whyNot = (hostname: string): string | undefined => {
    const s = deps.standing(hostname);
    if (!s || !s.usesBucket) return 'the host does not use the bucket';
    if (s.lastHeard === null) return 'the host has not been heard from through the bucket yet';
    if (s.state === 'offline') {
      const intervals = Math.floor((deps.now() - s.lastHeard) / s.intervalMs);
      return `the host has been offline for ${intervals} intervals (${Math.round(s.intervalMs / 1000)} s each)`;
    }
    return undefined;
  };
  const put = async (kind: 'job' | 'cancel', key: string, host: string, ttlMs: number, body: unknown): Promise<void> => {
    const now = deps.now();
    const relative = deps.layout.relative(key) as string;
    const bytes = encodeObject({ kind, key: relative, to: hostParty(host), issued_at: now, expires_at: now + ttlMs }, [body], deps.signer);
    await deps.bucket.put(key, bytes);
  };
  return {
    name: 'jobs',
    canReach: (hostname) => whyNot(hostname) === undefined,
    whyNot,
    async dispatch(hostname: string, envelope: DispatchEnvelope) {
      const ttl = timeoutOf(envelope) + JOB_GRACE_MS;
      await put('job', deps.layout.job(hostname, envelope.run_id), hostname, ttl, envelope);
    },
    async cancel(hostname: string, runId: string, reason: string) {
      cancelled.add(runId);
      try {
        await put('cancel', deps.layout.cancel(hostname, runId), hostname, CANCEL_TTL_MS, { run_id: runId, reason: reason.slice(0, 4096) });
      } catch (err) {
        deps.log.warn({ err, host: hostname, run_id: runId }, 'writing a cancel to the bucket failed');
        throw err;
      }
    },
    onRunChanged(run, by) {
      if (!TERMINAL_STATUSES.has(run.status)) return;
      if (by === 'cp') {
        if (run.route === 'jobs') deps.cleanup.scheduleKeys([deps.layout.job(run.host, run.run_id)]);
        return;
      }
      if (run.route !== 'jobs' && !cancelled.delete(run.run_id)) return;
      deps.cleanup.schedule(run.host, run.run_id);
    },
  };
}
