import { parseBucketKey } from '../../protocol/bucket-layout.js';
import type { BucketRegistration } from './bucket-registration.js';
import type { BucketRenewal } from './bucket-renewal.js';
import { forEachPage, readEntry, type ScanContext } from './scan-context.js';

/** Answers nobody collected are deleted after this long. */
const ANSWER_RETENTION_MS = 86_400_000;

/** What one registration scan did. */
export interface RegistrationCounts {
  answered: number;
  refused: number;
  renewed: number;
  renewRefused: number;
  cleaned: number;
}

/**
 * Reads `reg/`: registration and renewal requests are answered one at a time (each signs a certificate and writes the
 * store) and deleted once answered; answers older than a day are deleted; anything else is quarantined.
 */
export async function scanRegistrations(ctx: ScanContext, registration: BucketRegistration, renewal?: BucketRenewal): Promise<RegistrationCounts> {
  const counts: RegistrationCounts = { answered: 0, refused: 0, renewed: 0, renewRefused: 0, cleaned: 0 };
  await forEachPage(ctx, ctx.layout.registrations(), async (entries) => {
    const stale: string[] = [];
    for (const entry of entries) {
      const relative = ctx.layout.relative(entry.key) ?? entry.key;
      const parsed = parseBucketKey(relative);
      if (parsed?.kind === 'reg_ans' || parsed?.kind === 'renew_ans') {
        if (ctx.now() - entry.lastModified > ANSWER_RETENTION_MS) stale.push(entry.key);
        continue;
      }
      if (parsed?.kind !== 'reg_req' && (parsed?.kind !== 'renew_req' || !renewal)) {
        await ctx.quarantine.move(entry.key, 'bad_key', 'not a key of the layout (reg/<host>/<nonce>.req|.ans|.renew|.renewed)', entry.size);
        continue;
      }
      const bytes = await readEntry(ctx, entry);
      if (!bytes) continue;
      const renewing = parsed.kind === 'renew_req';
      const outcome = renewing
        ? await (renewal as BucketRenewal).handle(entry.key, parsed.host, parsed.nonce, bytes)
        : await registration.handle(entry.key, parsed.host, parsed.nonce, bytes);
      if (!outcome.answered) {
        await ctx.quarantine.move(entry.key, 'unverified', outcome.reason, entry.size);
        continue;
      }
      if (renewing) counts[outcome.ok ? 'renewed' : 'renewRefused']++;
      else counts[outcome.ok ? 'answered' : 'refused']++;
      await ctx.bucket.delete(entry.key);
    }
    if (stale.length > 0) {
      await ctx.bucket.deleteMany(stale);
      counts.cleaned += stale.length;
    }
  });
  return counts;
}
