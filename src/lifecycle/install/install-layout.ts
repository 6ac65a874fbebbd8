import { join, resolve } from 'node:path';
import { UNIT_NAME } from '../units/unit-options.js';

/**
 * Where `okesu install` puts things under `--prefix` (docs/lifecycle.md "Install", *contract*). The paths are the
 * real ones on this machine: with `--prefix /srv/root` the unit and the supervisor name `/srv/root/usr/local/bin/okesu`.
 */
export interface InstallLayout {
  /** The resolved `--prefix` (`/` for a real install). */
  prefix: string;
  /** True for a real install (`/`): only then are users created and systemd asked to start anything. */
  system: boolean;
  /** The installed executable: PREFIX/usr/local/bin/okesu. */
  executable: string;
  /** The daimon's state directory: PREFIX/var/lib/okesu. */
  stateDir: string;
  /** The systemd unit file. */
  unit: string;
  /** What install did, for a later install or uninstall (STATE/install.json). */
  facts: string;
  /** The detached supervisor's pid file (hosts without systemd). */
  supervisePid: string;
  /** The detached supervisor's log (its output and the daimon's). */
  daimonLog: string;
  /** STATE/tmp (0700): the daimon's TMPDIR under systemd. */
  tmp: string;
}

/** The install layout under one prefix. */
export function installLayout(prefix: string): InstallLayout {
  const root = resolve(prefix);
  const stateDir = join(root, 'var/lib/okesu');
  return {
    prefix: root,
    system: root === '/',
    executable: join(root, 'usr/local/bin/okesu'),
    stateDir,
    unit: join(root, 'etc/systemd/system', UNIT_NAME),
    facts: join(stateDir, 'install.json'),
    supervisePid: join(stateDir, 'supervise.pid'),
    daimonLog: join(stateDir, 'daimon.log'),
    tmp: join(stateDir, 'tmp'),
  };
}
