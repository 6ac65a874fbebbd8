import { z } from 'zod';

/**
 * What `okesu install` did, as it reports it on its last line — the contract `okesu deploy` reads back from the output
 * of an install it ran over SSH: a first install, nothing (the same executable is installed), or a replaced executable.
 */
export const INSTALL_OUTCOMES = ['installed', 'unchanged', 'upgraded'] as const;
/** An install's outcome word. */
export type InstallOutcome = (typeof INSTALL_OUTCOMES)[number];

/** The final result of `okesu install` (`--json` prints it as one JSON object). */
export const installResultSchema = z.object({
  outcome: z.enum(INSTALL_OUTCOMES),
  hostname: z.string(),
  version: z.string(),
  state_dir: z.string(),
});
/** An install's result. */
export type InstallResult = z.infer<typeof installResultSchema>;

const LINE = /^okesu install: (installed|unchanged|upgraded) host=(\S+) version=(\S+) state=(.+)$/;

/** The last line `okesu install` prints without `--json`. */
export function formatInstallOutcome(r: InstallResult): string {
  return `okesu install: ${r.outcome} host=${r.hostname} version=${r.version} state=${r.state_dir}`;
}

function fromJson(text: string): InstallResult | undefined {
  try {
    const parsed = installResultSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined; // Not JSON: a log line.
  }
}

/** How much of the end of an install's output is searched for its result (the result is its last line or object). */
const TAIL_CHARS = 64 * 1024;

/**
 * The result in `okesu install`'s output (hostile text when it comes from another host): the last line that is the
 * outcome line or a matching JSON object, or a pretty-printed object that ends the output; undefined when there is
 * none. Lines before it (logs, steps) are skipped. Linear in the output: only its last 64 KiB are read, each line is
 * parsed once, and the multi-line form is tried once, from the last line that is `{` alone.
 */
export function readInstallResult(output: string): InstallResult | undefined {
  const lines = output.slice(-TAIL_CHARS).split('\n');
  let triedPretty = false;
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = (lines[i] ?? '').trim();
    const m = LINE.exec(line);
    if (m) return { outcome: m[1] as InstallOutcome, hostname: m[2] as string, version: m[3] as string, state_dir: m[4] as string };
    if (!line.startsWith('{')) continue;
    const found = fromJson(line) ?? (line === '{' && !triedPretty ? fromJson(lines.slice(i).join('\n')) : undefined);
    if (line === '{') triedPretty = true;
    if (found) return found;
  }
  return undefined;
}
