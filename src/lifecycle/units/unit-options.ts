/** What an init-system unit needs to start the daimon under `okesu supervise` (issue 15, docs/lifecycle.md "Install"). */
export interface UnitOptions {
  /** The installed executable, also the supervisor (default `/usr/local/bin/okesu`). */
  executable: string;
  /** The daimon's state directory (default `/var/lib/okesu`). */
  stateDir: string;
  /** The account the daimon runs as (default `okesu`); `root` keeps the sandbox but drops the user and capabilities. */
  user: string;
  /** `okesu daemon` flags after `--state`, e.g. `--enable edr --label env=prod` (never a join token). */
  daemonArgs: readonly string[];
}

/** Where a default install puts the executable. */
export const DEFAULT_EXECUTABLE = '/usr/local/bin/okesu';
/** Where a default install keeps the daimon's state. */
export const DEFAULT_STATE_DIR = '/var/lib/okesu';
/** The account a default install creates and runs the daimon as. */
export const DEFAULT_USER = 'okesu';
/** The systemd unit's name. */
export const UNIT_NAME = 'okesu.service';
/** The launchd job's label. */
export const LAUNCHD_LABEL = 'dev.okesu.daimon';

/** Arguments of the executable: `supervise --state DIR -- daemon --state DIR …` (the supervisor starts `bin/current` with what follows `--`). */
export function superviseArgs(opts: Pick<UnitOptions, 'stateDir' | 'daemonArgs'>): string[] {
  return ['supervise', '--state', opts.stateDir, '--', 'daemon', '--state', opts.stateDir, ...opts.daemonArgs];
}

/** Refuses an account name useradd would refuse, or one that could break out of a unit's `User=` line. */
export function assertUserName(user: string): void {
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(user)) throw new Error(`not a usable account name: ${JSON.stringify(user)} (lower-case letters, digits, _ and -, at most 32)`);
}

/** Refuses a flag that would put the join token on a command line that ends up in a unit file or `ps`. */
export function assertNoToken(daemonArgs: readonly string[]): void {
  if (daemonArgs.some((a) => a === '--token' || a.startsWith('--token=') || /\bokj_/.test(a))) {
    throw new Error('a join token never goes into a unit: install registers the host itself, before the unit is written');
  }
}
