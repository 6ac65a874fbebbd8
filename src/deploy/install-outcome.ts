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

/** The install's outcome from its stdout: the last line that is such a JSON object; undefined when none is. */
export function parseInstallOutcome(stdout: string): InstallOutcome | undefined {
  const lines = stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('{'));
  for (const line of lines.reverse()) {
    try {
      const parsed = installOutcomeSchema.safeParse(JSON.parse(line));
      if (parsed.success) return parsed.data;
    } catch {
      // Not JSON: a log line; keep looking.
    }
  }
  // A pretty-printed (multi-line) document: try the whole text.
  try {
    const parsed = installOutcomeSchema.safeParse(JSON.parse(stdout));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

