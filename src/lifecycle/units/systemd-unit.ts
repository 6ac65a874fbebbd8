import { join } from 'node:path';
import { hardeningLines } from './systemd-hardening.js';
import { assertNoToken, assertUserName, superviseArgs } from './unit-options.js';
import type { UnitOptions } from './unit-options.js';

/** Exit code of a daimon the CP refused for good (`FATAL_EXIT_CODE` of `okesu daemon`): restarting cannot help. */
const FATAL_EXIT_CODE = 78;

/**
 * One word of an `ExecStart=` line: quoted when it holds spaces or quotes, with `%` (specifiers) and `$` (environment
 * expansion) doubled so systemd passes it on as written. Control characters cannot be written in a unit at all.
 */
export function systemdWord(word: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(word)) throw new Error(`a unit cannot carry control characters: ${JSON.stringify(word)}`);
  const escaped = word.replaceAll('%', '%%').replaceAll('$', '$$$$');
  if (escaped !== '' && !/[\s"'\\;]/.test(escaped)) return escaped;
  return `"${escaped.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** A path in a unit setting other than ExecStart (ReadWritePaths=, Environment=): no spaces allowed, `%` doubled. */
function unitPath(path: string): string {
  if (!/^\/[^\s"'\\]*$/.test(path)) throw new Error(`the unit needs an absolute path without spaces or quotes, got ${JSON.stringify(path)}`);
  return path.replaceAll('%', '%%');
}

/**
 * The hardened systemd unit that runs the daimon under `okesu supervise` (docs/lifecycle.md "Install",
 * docs/security.md "The daimon's sandbox"). systemd restarts the supervisor; the supervisor restarts the daimon and
 * rolls an upgrade back; systemd's stop signals the supervisor alone (KillMode=mixed), which stops the daimon cleanly.
 */
export function systemdUnit(opts: UnitOptions & { version: string }): string {
  assertNoToken(opts.daemonArgs);
  assertUserName(opts.user);
  const state = unitPath(opts.stateDir);
  const exec = [opts.executable, ...superviseArgs(opts)].map(systemdWord).join(' ');
  const lines: string[] = [
    `# okesu ${opts.version}: the daimon of this host under its supervisor (okesu daemon --print-unit).`,
    '# The join token is never here: `okesu install` registers the host before writing this file.',
    '[Unit]',
    'Description=Okesu daimon (under okesu supervise)',
    'Wants=network-online.target',
    'After=network-online.target',
    // Restart=always means always: no rate limit after which systemd gives up on the host's agents.
    'StartLimitIntervalSec=0',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${exec}`,
    ...(opts.user === 'root' ? [] : [`User=${opts.user}`, `Group=${opts.user}`]),
    'Restart=always',
    'RestartSec=5s',
    `RestartPreventExitStatus=${FATAL_EXIT_CODE}`,
    '# The supervisor gets SIGTERM and stops the daimon; whatever is left gets SIGKILL after the timeout.',
    'KillMode=mixed',
    'TimeoutStopSec=45s',
    '# Each run gets its own cgroup v2 under the daimon\'s (daimon/run/cgroup-containment.ts).',
    'Delegate=yes',
    '# OKESU_SEA_DIR: where the single executable unpacks its bundle (scripts/sea/launcher.cjs), writable here.',
    `Environment=TMPDIR=${join(state, 'tmp')} OKESU_SEA_DIR=${join(state, 'sea')}`,
  ];
  for (const h of hardeningLines(opts.user, state)) {
    if (h.relaxed) lines.push(`# ${h.relaxed}`);
    lines.push(`${h.key}=${h.value}`);
  }
  lines.push('', '[Install]', 'WantedBy=multi-user.target', '');
  return lines.join('\n');
}
