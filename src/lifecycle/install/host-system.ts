import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { OkesuError } from '../../errors.js';

/** Runs a system tool to completion; OKS_ERR_INSTALL with its stderr when it fails. */
export function runTool(command: string, args: readonly string[]): string {
  const r = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  if (r.error) throw new OkesuError('OKS_ERR_INSTALL', `${command} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new OkesuError('OKS_ERR_INSTALL', `${command} ${args.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr.trim().slice(0, 2000)}`);
  return r.stdout;
}

/** True when the account exists (getent: also users from NSS, not only /etc/passwd). */
export function userExists(name: string): boolean {
  return spawnSync('getent', ['passwd', name], { stdio: 'ignore' }).status === 0;
}

/** The shell of system accounts that must not log in. */
function noLoginShell(): string {
  return ['/usr/sbin/nologin', '/sbin/nologin'].find((s) => existsSync(s)) ?? '/bin/false';
}

/** Creates a system account with its own group, `home` as its home (not created), and no login shell. */
export function createSystemUser(name: string, home: string): void {
  runTool('useradd', ['--system', '--user-group', '--home-dir', home, '--no-create-home', '--shell', noLoginShell(), name]);
}

/** Removes a system account (and its group, when useradd made one for it). */
export function removeSystemUser(name: string): void {
  runTool('userdel', [name]);
}

/** Gives `path` and everything in it to `user` (and its group): the daimon refuses a state directory it does not own. */
export function chownTree(path: string, user: string): void {
  runTool('chown', ['-R', '--no-dereference', `${user}:${user}`, path]);
}

/** True when systemd is this machine's init (sd_booted(3): /run/systemd/system exists). */
export function systemdRunning(): boolean {
  return existsSync('/run/systemd/system');
}

/** `systemctl ARGS`. */
export function systemctl(...args: string[]): void {
  runTool('systemctl', args);
}
