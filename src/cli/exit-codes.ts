/**
 * The exit codes of `okesu` (docs/cli.md, `okesu --help`). Scripts branch on them, so they never change meaning:
 * new ones are added, old ones kept.
 */
export const EXIT = {
  /** The command did what it was asked. */
  ok: 0,
  /** It failed: the CP refused or could not be reached, a file could not be read, an error. */
  failure: 1,
  /** Usage: an unknown command or flag, a missing or malformed argument. Nothing was sent. */
  usage: 2,
  /** `run --wait` / `orchestrate run --wait`: the run (or a run of a fan-out, or the orchestration run) failed. */
  runFailed: 3,
  /** `run --wait`: the run timed out on the host (and no run of a fan-out failed). */
  runTimedOut: 4,
  /** `run --wait` / `orchestrate run --wait`: the run was cancelled (and none failed or timed out). */
  runCancelled: 5,
} as const;

/** The lines `okesu --help` and docs/cli.md show. */
export const EXIT_CODES_HELP = [
  'Exit codes:',
  '  0  ok',
  '  1  failure (the CP refused or could not be reached, an error)',
  '  2  usage (unknown command or flag, bad argument; nothing was sent)',
  '  3  run --wait / orchestrate run --wait: a run failed (or could not be dispatched)',
  '  4  run --wait: a run timed out',
  '  5  run --wait / orchestrate run --wait: a run was cancelled',
].join('\n');

/**
 * The exit code of runs that ended (one, or the runs of a fan-out): 0 when every one completed, else the code of the
 * worst outcome — failed before timed out before cancelled. A run not yet ended counts as failed (it could not be waited for).
 */
export function exitCodeOfRuns(statuses: readonly string[]): number {
  if (statuses.every((s) => s === 'completed')) return EXIT.ok;
  if (statuses.some((s) => s !== 'completed' && s !== 'timeout' && s !== 'cancelled')) return EXIT.runFailed;
  if (statuses.includes('timeout')) return EXIT.runTimedOut;
  return EXIT.runCancelled;
}
