/** What `okesu install` did: a first install, nothing (the same executable is installed), or a replaced executable. */
export type InstallOutcome = 'installed' | 'unchanged' | 'upgraded';

/** The final result of `okesu install` (`--json` prints it). */
export interface InstallResult {
  outcome: InstallOutcome;
  hostname: string;
  version: string;
  state_dir: string;
}

const LINE = /^okesu install: (installed|unchanged|upgraded) host=(\S+) version=(\S+) state=(.+)$/;

/** The last line `okesu install` prints; `okesu deploy` reads it back with `parseInstallOutcome`. */
export function formatInstallOutcome(r: InstallResult): string {
  return `okesu install: ${r.outcome} host=${r.hostname} version=${r.version} state=${r.state_dir}`;
}

/** The result in an `okesu install` output line (any line of its output may be given), or undefined. */
export function parseInstallOutcome(line: string): InstallResult | undefined {
  const m = LINE.exec(line.trim());
  if (!m) return undefined;
  return { outcome: m[1] as InstallOutcome, hostname: m[2] as string, version: m[3] as string, state_dir: m[4] as string };
}
