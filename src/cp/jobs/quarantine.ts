import type { Logger } from 'pino';
import type { Bucket } from '../../transport/bucket/bucket.js';
import type { BucketLayout } from '../../protocol/bucket-layout.js';

/** Why an object was quarantined, by kind (the counters' keys): the detail goes into its `.reason` note. */
export type QuarantineCode = 'bad_key' | 'too_large' | 'unverified' | 'bad_body';

/** Moves objects the CP will not act on out of the way, with a note saying why. */
export interface Quarantine {
  /** Copies `key` to `quarantine/<ms>/<key>`, writes `<that>.reason`, deletes the original. Throws when the bucket fails. */
  move(key: string, code: QuarantineCode, detail: string, size: number): Promise<void>;
  /** Objects quarantined since the CP started, by code. */
  counts(): Readonly<Record<QuarantineCode, number>>;
}

/**
 * The CP's quarantine (docs/jobs-mode.md): a hostile or broken object is never acted on; it is moved (server-side
 * copy, so an oversized one is never downloaded) under `quarantine/` with a JSON note `{reason, code, key, at, size}`,
 * logged with its reason (the detail is the CP's own words, never the object's bytes) and counted.
 */
export function createQuarantine(deps: { bucket: Bucket; layout: BucketLayout; now: () => number; log: Logger }): Quarantine {
  const counts: Record<QuarantineCode, number> = { bad_key: 0, too_large: 0, unverified: 0, bad_body: 0 };
  return {
    async move(key, code, detail, size) {
      const at = deps.now();
      const target = deps.layout.quarantine(key, at);
      const relative = deps.layout.relative(key) ?? key;
      await deps.bucket.copy(key, target);
      await deps.bucket.put(`${target}.reason`, `${JSON.stringify({ reason: detail, code, key: relative, at, size })}\n`);
      await deps.bucket.delete(key);
      counts[code]++;
      deps.log.warn({ key: relative.slice(0, 1024), code, reason: detail.slice(0, 1024), size, quarantined_as: target }, 'bucket object quarantined');
    },
    counts: () => ({ ...counts }),
  };
}
