import type { KeyObject } from 'node:crypto';
import { parseBucketKey } from '../../src/protocol/bucket-layout.js';
import type { BucketLayout } from '../../src/protocol/bucket-layout.js';
import { MAX_OBJECT_BYTES, cancelBodySchema, claimBodySchema, hostParty, jobBodySchema, upgradeBodySchema } from '../../src/protocol/bucket-objects.js';
import type { DispatchEnvelope } from '../../src/protocol/dispatch.js';
import type { UpgradeOrder } from '../../src/protocol/rollout.js';
import { describeIssues } from '../../src/protocol/event.js';
import type { Bucket, BucketEntry } from '../../src/transport/bucket/bucket.js';
import { readObject } from '../../src/transport/bucket/signed-object.js';
import type { VerifiedObject } from '../../src/transport/bucket/signed-object.js';
import type { Logger } from '../provider.js';
import type { HostObjects } from './host-objects.js';
import type { SeenRuns } from './seen-runs.js';

/** What the reader hands on: jobs it claimed, cancels of claimed runs, upgrade orders (each rollout once). */
export interface InboxHandlers {
  onDispatch(envelope: DispatchEnvelope): void;
  onCancel(runId: string, reason: string): void;
  /** Absent: upgrade orders are left unread. */
  onUpgrade?(order: UpgradeOrder): void;
}

/** Reads one host's inbox. */
export interface InboxReader {
  /**
   * One pass: a LIST of the inbox (paged when large), then for each unclaimed job of a run not seen before: GET,
   * verify, claim (conditional create) and dispatch; for each new cancel beside a claim: GET, verify, cancel; for each
   * upgrade order of a rollout not seen before: GET, verify, remember, hand over (no claim: one host, one order). Throws
   * when a bucket request fails (what was claimed before the failure was already handed on).
   */
  poll(handlers: InboxHandlers): Promise<void>;
  /** Objects refused so far, by reason (the reason's text up to its first detail). */
  refusals(): Record<string, number>;
}

/** What the reader needs. */
export interface InboxReaderOptions {
  bucket: Bucket;
  layout: BucketLayout;
  hostname: string;
  /** The CA's public key: jobs and cancels must be signed by the CP with it. */
  cpKey: KeyObject;
  seen: SeenRuns;
  /**
   * Rollouts whose upgrade order this host took (kept until the order expires, across restarts: the new version polls
   * the same order until the CP deletes it). Absent: upgrade orders are left unread.
   */
  seenUpgrades?: SeenRuns;
  /** The host's object builder now (a renewal replaces it): claims are signed with the current key. */
  objects: () => HostObjects;
  /** Names this poller in its claims (two pollers of one host tell their claims apart). */
  poller: string;
  /** This host's public keys (current, and the one before a renewal): to recognise its own claims. */
  ownKeys: () => readonly KeyObject[];
  log: Logger;
  now: () => number;
  /** Keys per LIST page (default the store's 1000; tests page with fewer). */
  pageKeys?: number;
}

/**
 * The daimon's inbox reader (JOBS-DESIGN "CP → daimon"). Idle, it costs one LIST. A hostile or broken object is
 * logged by reason (never its bytes), counted, and remembered by key and ETag so it is not read again; the daimon
 * does not own `quarantine/`, so it leaves the object for the CP to move.
 */
export function createInboxReader(opts: InboxReaderOptions): InboxReader {
  const { bucket, layout, hostname, log } = opts;
  const me = hostParty(hostname);
  // Key → ETag of objects already dealt with (refused, handled, or skipped for good): not read again while unchanged.
  const done = new Map<string, string>();
  const refused = new Map<string, number>();
  // Runs whose claim request failed without an answer: the store may have created it. Resolved by reading the claim.
  const uncertain = new Set<string>();

  const refuse = (entry: BucketEntry, reason: string): void => {
    const category = reason.replace(/\s*[("(\d].*$/s, '').slice(0, 80) || reason.slice(0, 80);
    refused.set(category, (refused.get(category) ?? 0) + 1);
    done.set(entry.key, entry.etag);
    log.warn({ object: entry.key, size: entry.size, reason }, 'bucket object refused; not acted on');
  };

  /** GETs and verifies one object of the CP; undefined when it is gone or was refused. */
  const read = async (entry: BucketEntry, kind: 'job' | 'cancel' | 'upgrade'): Promise<VerifiedObject | undefined> => {
    if (entry.size > MAX_OBJECT_BYTES) return void refuse(entry, `larger than ${MAX_OBJECT_BYTES} bytes (left unread)`);
    const got = await bucket.get(entry.key, MAX_OBJECT_BYTES);
    if (!got) return undefined; // deleted since the listing (the CP cleaned up)
    if (got.tooLarge) return void refuse(entry, `larger than ${MAX_OBJECT_BYTES} bytes (left unread)`);
    const result = readObject(got.body, {
      key: layout.relative(entry.key) ?? entry.key, kind, to: me, now: opts.now(),
      keysOf: (p) => (p === 'cp' ? [opts.cpKey] : undefined), from: (p) => p === 'cp',
    });
    if (!result.ok) return void refuse({ ...entry, etag: got.etag }, result.reason);
    if (result.object.lines.length !== 1) return void refuse({ ...entry, etag: got.etag }, `a ${kind} has one body line, this one has ${result.object.lines.length}`);
    return result.object;
  };

  const takeJob = async (entry: BucketEntry, runId: string, handlers: InboxHandlers): Promise<void> => {
    const object = await read(entry, 'job');
    if (!object) return;
    const parsed = jobBodySchema.safeParse(object.lines[0]);
    if (!parsed.success) return refuse(entry, `bad job body: ${describeIssues(parsed.error)}`);
    if (parsed.data.run_id !== runId) return refuse(entry, `the job is for run ${parsed.data.run_id}, its key names ${runId}`);
    // Checked again after the GET: another pass of this process may have taken it meanwhile.
    if (opts.seen.has(runId)) return void done.set(entry.key, entry.etag);
    const claim = opts.objects().claim(runId, opts.poller);
    uncertain.add(runId);
    const outcome = await bucket.putIfAbsent(claim.key, claim.body);
    uncertain.delete(runId);
    done.set(entry.key, entry.etag);
    if (outcome === 'exists') {
      log.info({ run_id: runId }, 'job already claimed by another poller of this host');
      return;
    }
    dispatch(runId, object.header.expires_at, parsed.data, handlers);
  };

  const dispatch = (runId: string, expiresAt: number, envelope: DispatchEnvelope, handlers: InboxHandlers): void => {
    try {
      opts.seen.add(runId, expiresAt);
    } catch (err) {
      // The claim already stops a second run of it; losing only the replay guard beats losing the job.
      log.error({ run_id: runId, err: (err as Error).message }, 'could not record the claimed run in the seen-set');
    }
    log.info({ run_id: runId, agent: envelope.agent }, 'job claimed from the bucket');
    handlers.onDispatch(envelope);
  };

  /** A claim whose request failed: if the store made it and it is this poller's, the job is this poller's to run. */
  const settleClaim = async (job: BucketEntry, claimKey: string, runId: string, handlers: InboxHandlers): Promise<void> => {
    const got = await bucket.get(claimKey, 64 * 1024);
    if (!got || got.tooLarge) return void uncertain.delete(runId);
    const verified = readObject(got.body, {
      key: layout.relative(claimKey) ?? claimKey, kind: 'claim', to: 'cp', now: opts.now(),
      keysOf: (p) => (p === me ? opts.ownKeys() : undefined), from: (p) => p === me,
    });
    const body = verified.ok ? claimBodySchema.safeParse(verified.object.lines[0]) : undefined;
    uncertain.delete(runId);
    if (!body?.success || body.data.poller !== opts.poller || body.data.run_id !== runId) return;
    const object = await read(job, 'job');
    const parsed = object && jobBodySchema.safeParse(object.lines[0]);
    if (!object || !parsed?.success || parsed.data.run_id !== runId) return;
    log.info({ run_id: runId }, 'the claim whose request failed was made: running the job');
    dispatch(runId, object.header.expires_at, parsed.data, handlers);
  };

  const takeCancel = async (entry: BucketEntry, runId: string, handlers: InboxHandlers): Promise<void> => {
    const object = await read(entry, 'cancel');
    if (!object) return;
    const parsed = cancelBodySchema.safeParse(object.lines[0]);
    if (!parsed.success) return refuse(entry, `bad cancel body: ${describeIssues(parsed.error)}`);
    if (parsed.data.run_id !== runId) return refuse(entry, `the cancel is for run ${parsed.data.run_id}, its key names ${runId}`);
    done.set(entry.key, entry.etag);
    handlers.onCancel(runId, parsed.data.reason);
  };

  /** An upgrade order of a rollout not seen before: GET, verify, remember, hand over. */
  const takeUpgrade = async (entry: BucketEntry, rolloutId: string, seenUpgrades: SeenRuns, onUpgrade: (order: UpgradeOrder) => void): Promise<void> => {
    const object = await read(entry, 'upgrade');
    if (!object) return;
    const parsed = upgradeBodySchema.safeParse(object.lines[0]);
    if (!parsed.success) return refuse(entry, `bad upgrade order: ${describeIssues(parsed.error)}`);
    if (parsed.data.rollout_id !== rolloutId) return refuse(entry, `the upgrade order is of rollout ${parsed.data.rollout_id}, its key names ${rolloutId}`);
    done.set(entry.key, entry.etag);
    if (seenUpgrades.has(rolloutId)) return;
    try {
      // Written before the order is acted on: the upgrade restarts this process, and the next one must not redo it.
      seenUpgrades.add(rolloutId, object.header.expires_at);
    } catch (err) {
      log.error({ rollout_id: rolloutId, err: (err as Error).message }, 'could not record the upgrade order in the seen-set');
    }
    log.info({ rollout_id: rolloutId }, 'upgrade order taken from the bucket');
    onUpgrade(parsed.data);
  };

  return {
    async poll(handlers) {
      const entries: BucketEntry[] = [];
      let next: string | undefined;
      do {
        const page = await bucket.list(layout.inbox(hostname), { ...(next !== undefined && { continuation: next }), ...(opts.pageKeys !== undefined && { maxKeys: opts.pageKeys }) });
        entries.push(...page.entries);
        next = page.next;
      } while (next !== undefined);

      // The inbox by run: which of job, claim and cancel it holds.
      const runs = new Map<string, { job?: BucketEntry; claim?: BucketEntry; cancel?: BucketEntry }>();
      const upgrades: { entry: BucketEntry; rolloutId: string }[] = [];
      const present = new Set<string>();
      for (const entry of entries) {
        present.add(entry.key);
        if (done.get(entry.key) === entry.etag) continue;
        const parsed = parseBucketKey(layout.relative(entry.key) ?? '');
        if (parsed?.kind === 'upgrade' && parsed.host === hostname) {
          upgrades.push({ entry, rolloutId: parsed.rolloutId });
          continue;
        }
        if (!parsed || (parsed.kind !== 'job' && parsed.kind !== 'cancel' && parsed.kind !== 'claim') || parsed.host !== hostname) {
          refuse(entry, 'not a key of this inbox');
          continue;
        }
        const run = runs.get(parsed.runId) ?? {};
        run[parsed.kind] = entry;
        runs.set(parsed.runId, run);
      }
      // Forget what left the inbox: the memory stays as small as the inbox.
      for (const key of done.keys()) if (!present.has(key)) done.delete(key);
      // A claim or cancel already dealt with is skipped above, yet still counts for its job: look it up by key.
      const has = (key: string): boolean => present.has(key);

      for (const [runId, run] of runs) {
        if (run.job && uncertain.has(runId) && has(layout.claim(hostname, runId)) && !opts.seen.has(runId)) {
          await settleClaim(run.job, layout.claim(hostname, runId), runId, handlers);
        }
        if (run.job && !has(layout.claim(hostname, runId))) {
          if (has(layout.cancel(hostname, runId))) done.set(run.job.key, run.job.etag); // cancelled before anyone took it
          else if (opts.seen.has(runId)) done.set(run.job.key, run.job.etag); // a replay of a run this host took
          else await takeJob(run.job, runId, handlers);
        }
        if (run.cancel && has(layout.claim(hostname, runId))) await takeCancel(run.cancel, runId, handlers);
      }

      const { seenUpgrades } = opts;
      const onUpgrade = handlers.onUpgrade?.bind(handlers);
      if (!seenUpgrades || !onUpgrade) return;
      for (const { entry, rolloutId } of upgrades) {
        if (seenUpgrades.has(rolloutId)) done.set(entry.key, entry.etag); // taken before (by this process or the one before it)
        else await takeUpgrade(entry, rolloutId, seenUpgrades, onUpgrade);
      }
    },
    refusals: () => Object.fromEntries(refused),
  };
}
