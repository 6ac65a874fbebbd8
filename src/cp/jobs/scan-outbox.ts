import { z } from 'zod';
import { eventsBodyLineSchema, exitBodySchema, hostParty, MAX_RECORDS_PER_OBJECT } from '../../protocol/bucket-objects.js';
import { parseBucketKey } from '../../protocol/bucket-layout.js';
import { describeIssues } from '../../protocol/event.js';
import { readObject } from '../../transport/bucket/signed-object.js';
import type { BucketEntry } from '../../transport/bucket/bucket.js';
import type { EventIngest } from '../../transport/types.js';
import type { HostKeys } from './host-keys.js';
import type { InboxCleanup } from './inbox-cleanup.js';
import { forEachPage, inTurns, readEntry, type ScanContext } from './scan-context.js';

const eventsBodySchema = z.array(eventsBodyLineSchema).min(1).max(MAX_RECORDS_PER_OBJECT);
/** Objects read and ingested at once: enough to fill the ingest queue's group commits, few enough to bound memory. */
const CONCURRENCY = 16;

/** What one outbox scan did. */
export interface OutboxCounts {
  events: number;
  records: number;
  exits: number;
}

/**
 * Consumes `out/`: what every host wrote and the CP has not taken yet (empty when the fleet is idle, so the cost is
 * in pending objects, not hosts). Each object is verified as written by the host its key names; events go to the
 * ingest queue and the object is deleted only after the ingest committed them (a CP killed in between reads it again
 * and the ingest's (run, seq) key drops the copies); an exit schedules its run's inbox for deletion.
 */
export async function scanOutbox(ctx: ScanContext, deps: { hostKeys: HostKeys; ingest: EventIngest; cleanup: InboxCleanup }): Promise<OutboxCounts> {
  const counts: OutboxCounts = { events: 0, records: 0, exits: 0 };
  await forEachPage(ctx, ctx.layout.outbox(), async (entries) => {
    const consumed: string[] = [];
    await inTurns(entries, CONCURRENCY, async (entry) => {
      if (await consume(ctx, deps, entry, counts)) consumed.push(entry.key);
    });
    if (consumed.length > 0) await ctx.bucket.deleteMany(consumed);
  });
  return counts;
}

/** Handles one outbox object: true when it was consumed (delete it), false when it was quarantined or is gone. */
async function consume(ctx: ScanContext, deps: { hostKeys: HostKeys; ingest: EventIngest; cleanup: InboxCleanup }, entry: BucketEntry, counts: OutboxCounts): Promise<boolean> {
  const relative = ctx.layout.relative(entry.key) ?? entry.key;
  const parsed = parseBucketKey(relative);
  if (!parsed || (parsed.kind !== 'events' && parsed.kind !== 'exit')) {
    await ctx.quarantine.move(entry.key, 'bad_key', 'not a key of the layout (out/<host>/<ms>-<nonce>.events|.exit)', entry.size);
    return false;
  }
  const bytes = await readEntry(ctx, entry);
  if (!bytes) return false;
  const party = hostParty(parsed.host);
  const read = readObject(bytes, {
    key: relative, kind: parsed.kind, to: 'cp', now: ctx.now(),
    from: (p) => p === party, keysOf: (p) => (p === party ? deps.hostKeys.keysOf(parsed.host) : undefined),
  });
  if (!read.ok) {
    await ctx.quarantine.move(entry.key, 'unverified', read.reason, entry.size);
    return false;
  }
  if (parsed.kind === 'exit') {
    const exit = read.object.lines.length === 1 ? exitBodySchema.safeParse(read.object.lines[0]) : undefined;
    if (!exit?.success) {
      await ctx.quarantine.move(entry.key, 'bad_body', exit ? `bad exit: ${describeIssues(exit.error)}` : 'an exit has one body line', entry.size);
      return false;
    }
    deps.cleanup.schedule(parsed.host, exit.data.run_id);
    counts.exits++;
    return true;
  }
  const records = eventsBodySchema.safeParse(read.object.lines);
  if (!records.success) {
    await ctx.quarantine.move(entry.key, 'bad_body', `bad events: ${describeIssues(records.error)}`, entry.size);
    return false;
  }
  // Records of runs that are not this host's are refused by the ingest (and acknowledged: they would be refused again).
  let ack;
  try {
    ack = await deps.ingest.accept(parsed.host, records.data);
  } catch (err) {
    // Not stored (a bug in one batch, not the bucket): the object stays, to be read again by a later pass.
    ctx.log.error({ err, host: parsed.host, key: relative }, 'bucket events not stored; they are read again next scan');
    return false;
  }
  if (ack.refused.length > 0) {
    ctx.log.warn({ host: parsed.host, key: relative, refused: ack.refused.slice(0, 20) }, 'bucket events refused for runs the host may not write to');
  }
  counts.events++;
  counts.records += records.data.length;
  return true;
}
