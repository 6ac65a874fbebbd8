/**
 * The sandbox of the daimon's systemd unit, one line per option with the reason it is set — or set looser than the
 * strictest value — so the unit, docs/security.md ("The daimon's sandbox") and the tests say the same thing.
 *
 * The built-in agents decide what may be closed. They only read, but they read the whole host: edr and
 * forensic-collector walk /proc of every process (`/proc/PID/exe`, `fd`, `maps` of other users' processes need
 * CAP_SYS_PTRACE), instance-integrity hashes /etc/shadow, sudo and package files (CAP_DAC_READ_SEARCH),
 * instance-threat watches /root/.ssh and /home/*\/.ssh, sre-health reads the kernel log (CAP_SYSLOG where
 * kernel.dmesg_restrict=1), and edr looks for executables in the host's own /tmp, /var/tmp and /dev/shm.
 */
export interface HardeningLine {
  key: string;
  value: string;
  /** Printed as a comment above the line when the option is looser than it could be. */
  relaxed?: string;
}

/** Read-only reach over the host that the built-in agents need (granted as ambient capabilities to a non-root user). */
export const AGENT_CAPABILITIES = ['CAP_DAC_READ_SEARCH', 'CAP_SYS_PTRACE', 'CAP_SYSLOG'] as const;

/** The hardening lines of the unit for `user` with state in `stateDir`. */
export function hardeningLines(user: string, stateDir: string): HardeningLine[] {
  const caps = AGENT_CAPABILITIES.join(' ');
  const root = user === 'root';
  return [
    ...(root
      ? []
      : [
          { key: 'AmbientCapabilities', value: caps, relaxed: 'read any file (CAP_DAC_READ_SEARCH), inspect any process in /proc (CAP_SYS_PTRACE), read the kernel log (CAP_SYSLOG): what the built-in agents read; no capability to write or change anything' },
          { key: 'CapabilityBoundingSet', value: caps },
        ]),
    { key: 'NoNewPrivileges', value: 'yes' },
    { key: 'ProtectSystem', value: 'strict' },
    { key: 'ReadWritePaths', value: stateDir },
    { key: 'ProtectHome', value: 'read-only', relaxed: 'not "yes": instance-threat watches /root/.ssh and /home/*/.ssh, forensic-collector lists recent files in /root and /home' },
    { key: 'PrivateTmp', value: 'no', relaxed: 'edr, host-check and forensic-collector look for executables in the host\'s /tmp and /var/tmp; a private /tmp would hide them (temporary files go to TMPDIR in the state directory instead)' },
    { key: 'PrivateDevices', value: 'no', relaxed: 'a private /dev would hide the host\'s /dev/shm, where edr looks for executables' },
    { key: 'ProtectKernelTunables', value: 'yes' },
    { key: 'ProtectKernelModules', value: 'no', relaxed: 'it hides /usr/lib/modules: instance-integrity verifies package files, the kernel\'s included' },
    { key: 'ProtectKernelLogs', value: 'no', relaxed: 'sre-health reads the kernel log for OOM kills' },
    { key: 'ProtectControlGroups', value: 'no', relaxed: 'each run gets its own cgroup v2 under the daimon\'s (Delegate=yes); a read-only /sys/fs/cgroup would forbid it' },
    { key: 'ProtectClock', value: 'yes' },
    { key: 'ProtectHostname', value: 'yes' },
    { key: 'RestrictSUIDSGID', value: 'yes' },
    { key: 'RestrictRealtime', value: 'yes' },
    { key: 'RestrictNamespaces', value: 'yes' },
    { key: 'LockPersonality', value: 'yes' },
    { key: 'SystemCallArchitectures', value: 'native' },
    { key: 'RestrictAddressFamilies', value: 'AF_UNIX AF_INET AF_INET6 AF_NETLINK', relaxed: 'AF_NETLINK: ss and ip, which edr-investigator runs, ask the kernel through netlink' },
    { key: 'UMask', value: '0077' },
  ];
}
