import { z } from 'zod';
import { eventsBodyLineSchema, exitBodySchema, MAX_RECORDS_PER_OBJECT, upgradeStatusBodySchema } from '../../protocol/bucket-objects.js';
import { describeIssues } from '../../protocol/event.js';
import type { BucketEntry } from '../../transport/bucket/bucket.js';
import type { EventIngest } from '../../transport/types.js';
import type { EventRecord } from '../../protocol/tunnel.js';
import type { UpgradeReport } from '../../protocol/rollout.js';
import type { HostKeys } from './host-keys.js';
import type { InboxCleanup } from './inbox-cleanup.js';
import { forEachPage, inTurns, readHostObject, type ScanContext } from './scan-context.js';

const eventsBodySchema = z.array(eventsBodyLineSchema).min(1).max(MAX_RECORDS_PER_OBJECT);
/** Objects read at once and handed to the ingest together: enough to fill its group commits, few enough to bound memory. */
const WINDOW = 64;

/** What one outbox scan did. */
export interface OutboxCounts {
  events: number;
  records: number;
  exits: number;
  upgrades: number;
}

/** What an outbox scan hands verified objects to. */
export interface OutboxDeps {
  hostKeys: HostKeys;
  ingest: EventIngest;
  cleanup: InboxCleanup;
  /** A host's upgrade report (the rollouts); absent, reports are read, logged and deleted. */
  onUpgradeStatus?: (hostname: string, report: UpgradeReport) => void;
}

/** A verified outbox object, ready to hand to the ingest (events) or to clean up after (exit). */
type Verified = { key: string; host: string; relative: string } & (
  | { kind: 'events'; records: EventRecord[] }
  | { kind: 'exit'; runId: string }
  | { kind: 'upgrade_status'; report: UpgradeReport }
);

/**
 * Consumes `out/`: what every host wrote and the CP has not taken yet (empty when the fleet is idle, so the cost is
 * in pending objects, not hosts). Each object is verified as written by the host its key names; events go to the
 * ingest queue and the object is deleted only after the ingest committed them (a CP killed in between reads it again
 * and the ingest's (run, seq) key drops the copies); an exit schedules its run's inbox for deletion; an upgrade report
 * goes to the rollouts (which ignore repeats) and is deleted.
 *
 * Objects are read in windows: a window's objects are fetched and verified concurrently, then handed to the ingest in
 * key order (a host's keys sort by the time it wrote them), so a tick's run_start is stored before the records that
 * follow it in later objects — the ingest would refuse those as an unknown run otherwise.
 */
export async function scanOutbox(ctx: ScanContext, deps: OutboxDeps): Promise<OutboxCounts> {
  const counts: OutboxCounts = { events: 0, records: 0, exits: 0, upgrades: 0 };
  await forEachPage(ctx, ctx.layout.outbox(), async (entries) => {
    for (let i = 0; i < entries.length; i += WINDOW) {
      const window = entries.slice(i, i + WINDOW);
      const verified: (Verified | undefined)[] = new Array(window.length);
      await inTurns(window.map((entry, at) => ({ entry, at })), WINDOW, async ({ entry, at }) => {
        verified[at] = await verify(ctx, deps.hostKeys, entry);
      });
      // Enqueued in key order with no await between: the ingest queue commits in that order.
      const handled = await Promise.all(verified.map((v) => (v ? hand(ctx, deps, v, counts) : Promise.resolve(undefined))));
      const consumed = handled.filter((key): key is string => key !== undefined);
      if (consumed.length > 0) await ctx.bucket.deleteMany(consumed);
    }
  });
  return counts;
}

/** Reads and verifies one outbox object; undefined when it was quarantined or is gone. */
async function verify(ctx: ScanContext, hostKeys: HostKeys, entry: BucketEntry): Promise<Verified | undefined> {
  const read = await readHostObject(ctx, entry, hostKeys, ['events', 'exit', 'upgrade_status'] as const, 'out/<host>/<ms>-<nonce>.events|.exit|.upgrade');
  if (!read) return undefined;
  const { host, relative } = read;
  const lines = read.object.lines;
  const base = { key: entry.key, host, relative };
  if (read.kind === 'exit') {
    const exit = lines.length === 1 ? exitBodySchema.safeParse(lines[0]) : undefined;
    if (!exit?.success) {
      await ctx.quarantine.move(entry.key, 'bad_body', exit ? `bad exit: ${describeIssues(exit.error)}` : 'an exit has one body line', entry.size);
      return undefined;
    }
    return { ...base, kind: 'exit', runId: exit.data.run_id };
  }
  if (read.kind === 'upgrade_status') {
    const report = lines.length === 1 ? upgradeStatusBodySchema.safeParse(lines[0]) : undefined;
    if (!report?.success) {
      await ctx.quarantine.move(entry.key, 'bad_body', report ? `bad upgrade report: ${describeIssues(report.error)}` : 'an upgrade report has one body line', entry.size);
      return undefined;
    }
    return { ...base, kind: 'upgrade_status', report: report.data };
  }
  const records = eventsBodySchema.safeParse(lines);
  if (!records.success) {
    await ctx.quarantine.move(entry.key, 'bad_body', `bad events: ${describeIssues(records.error)}`, entry.size);
    return undefined;
  }
  return { ...base, kind: 'events', records: records.data };
}

/** Hands a verified object on; resolves with its key once it may be deleted, undefined when it must stay. */
async function hand(ctx: ScanContext, deps: OutboxDeps, v: Verified, counts: OutboxCounts): Promise<string | undefined> {
  if (v.kind === 'exit') {
    deps.cleanup.schedule(v.host, v.runId);
    counts.exits++;
    return v.key;
  }
  if (v.kind === 'upgrade_status') return handUpgrade(ctx, deps, v, counts);
  let ack;
  try {
    // Records of runs that are not this host's are refused by the ingest (and acknowledged: they would be refused again).
    ack = await deps.ingest.accept(v.host, v.records);
  } catch (err) {
    // Not stored (a bug in one batch, not the bucket): the object stays, to be read again by a later pass.
    ctx.log.error({ err, host: v.host, object: v.relative }, 'bucket events not stored; they are read again next scan');
    return undefined;
  }
  if (ack.refused.length > 0) {
    ctx.log.warn({ host: v.host, object: v.relative, refused: ack.refused.slice(0, 20) }, 'bucket events refused for runs the host may not write to');
  }
  counts.events++;
  counts.records += v.records.length;
  return v.key;
}

/** Hands an upgrade report to the rollouts; resolves with its key once it may be deleted. */
function handUpgrade(ctx: ScanContext, deps: OutboxDeps, v: Verified & { kind: 'upgrade_status' }, counts: OutboxCounts): string | undefined {
  const { report } = v;
  if (!deps.onUpgradeStatus) {
    ctx.log.warn({ host: v.host, object: v.relative, rollout_id: report.rollout_id, state: report.state }, 'an upgrade report came through the bucket and no rollouts take it; deleted');
    return v.key;
  }
  try {
    deps.onUpgradeStatus(v.host, report);
  } catch (err) {
    // Not taken (a bug or the store, not the object): it stays, to be read again by a later pass.
    ctx.log.error({ err, host: v.host, object: v.relative, rollout_id: report.rollout_id }, 'upgrade report not taken; it is read again next scan');
    return undefined;
  }
  counts.upgrades++;
  return v.key;
}
