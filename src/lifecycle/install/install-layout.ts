import { join, resolve } from 'node:path';
import { UNIT_NAME } from '../units/unit-options.js';

/**
 * Where `okesu install` puts things under `--prefix` (docs/lifecycle.md "Install", *contract*). The paths are the
 * real ones on this machine: with `--prefix /srv/root` the unit and the supervisor name `/srv/root/usr/local/bin/okesu`.
 */
export function installLayout(prefix: string) {
  const root = resolve(prefix);
  const stateDir = join(root, 'var/lib/okesu');
  return {
    prefix: root,
    /** True for a real install (`/`): only then are users created and systemd asked to start anything. */
    system: root === '/',
    executable: join(root, 'usr/local/bin/okesu'),
    stateDir,
    unit: join(root, 'etc/systemd/system', UNIT_NAME),
    /** What install did, for a later install or uninstall (STATE/install.json). */
    facts: join(stateDir, 'install.json'),
    supervisePid: join(stateDir, 'supervise.pid'),
    daimonLog: join(stateDir, 'daimon.log'),
    tmp: join(stateDir, 'tmp'),
  };
}
/** The paths of one install. */
export type InstallLayout = ReturnType<typeof installLayout>;
