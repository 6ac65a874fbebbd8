import { z } from 'zod';

/** What `okesu install --json` prints on success (its last line). */
export const installOutcomeSchema = z.object({
  outcome: z.enum(['installed', 'unchanged', 'upgraded']),
  hostname: z.string(),
  version: z.string(),
  state_dir: z.string(),
});
/** An install's outcome. */
export type InstallOutcome = z.infer<typeof installOutcomeSchema>;

/**
 * The install's outcome from its stdout: the last JSON object in it that matches, on one line (JSONL) or pretty-printed
 * over several lines that end the output; undefined when there is none. Log lines before it are skipped.
 */
export function parseInstallOutcome(stdout: string): InstallOutcome | undefined {
  const lines = stdout.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!(lines[i] ?? '').trimStart().startsWith('{')) continue;
    for (const text of [lines[i] ?? '', lines.slice(i).join('\n')]) {
      const found = tryOutcome(text);
      if (found) return found;
    }
  }
  return undefined;
}

function tryOutcome(text: string): InstallOutcome | undefined {
  try {
    const parsed = installOutcomeSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined; // Not JSON: a log line.
  }
}
