import { setFlagsFromString } from 'node:v8';

/** How far past what survived the last full collection V8 may grow the old generation before the next, in percent. */
export const HEAP_GROWING_PERCENT = 50;

/**
 * Bounds the console's heap between full collections. V8 sets the next full collection at up to 4× what survived the
 * last one, by its estimate of collection speed against allocation speed; under a 1,000 findings/s feed every
 * finding outlives the young generation (the feed keeps the newest 5,000), so the console's ~45 MiB live set grew to
 * 150-180 MiB of heap between collections and its RSS to ~350 MiB (issue 17: ≤ 250 MiB). At 50 % the heap stays
 * within ~1.5× the live set plus V8's own minimum step, for a full collection every ~15 s under that feed instead of
 * every ~60 s. The flag is read at each collection, so setting it at start-up is enough (no re-exec with node
 * flags, which would cost start time); an explicit `--heap-growing-percent` on node's command line is left alone.
 */
export function limitHeapGrowth(execArgv: readonly string[] = process.execArgv): void {
  if (execArgv.some((a) => a.startsWith('--heap-growing-percent') || a.startsWith('--heap_growing_percent'))) return;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
