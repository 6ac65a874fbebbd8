/** The ATT&CK tactics of the coverage table, in kill-chain order. */
export const TACTICS = [
  'execution', 'persistence', 'privilege-escalation', 'defense-evasion', 'credential-access', 'discovery', 'lateral-movement',
  'command-and-control', 'impact',
] as const;
/** An ATT&CK tactic. */
export type Tactic = (typeof TACTICS)[number];

/**
 * One MITRE ATT&CK technique for Linux that host telemetry can show. Covered iff a case of `test/detections/cases/`
 * lists it (or one of its sub-techniques) and passes; `notCovered` says why no deterministic rule catches it.
 */
export interface AttackTechnique {
  /** `T1059.004`: the sub-technique where one fits. */
  id: string;
  name: string;
  tactic: Tactic;
  /** Why there is no case for it (shown while no passing case lists it). */
  notCovered?: string;
}

// Facts from MITRE ATT&CK (Linux platform) and what the Falco rules, osquery packs, Wazuh rootcheck and Sigma's Linux
// rules look at; the mapping and wording are ours.
/** The techniques `npm run detections` measures coverage against (docs/detections.md). */
export const ATTACK_TECHNIQUES: readonly AttackTechnique[] = [
  // Execution
  { id: 'T1059.004', name: 'Unix shell (a shell or interpreter wired to a network socket)', tactic: 'execution' },
  { id: 'T1059.006', name: 'Python', tactic: 'execution', notCovered: 'running python is normal; only its socket-wired form (T1059.004 cases) is clear-cut' },
  { id: 'T1053.003', name: 'Cron', tactic: 'execution' },
  { id: 'T1053.002', name: 'At', tactic: 'execution' },
  { id: 'T1053.006', name: 'Systemd timers', tactic: 'execution' },
  { id: 'T1204.002', name: 'User execution: malicious file (a file written then run from a writable dir)', tactic: 'execution' },
  { id: 'T1609', name: 'Container administration command', tactic: 'execution', notCovered: 'needs the container runtime\'s audit log; an exec into a container looks like any process from the host' },
  { id: 'T1610', name: 'Deploy container', tactic: 'execution', notCovered: 'needs the container runtime\'s API or audit log' },
  { id: 'T1106', name: 'Native API', tactic: 'execution', notCovered: 'needs system call tracing (eBPF, auditd)' },

  // Persistence
  { id: 'T1543.002', name: 'Systemd service', tactic: 'persistence' },
  { id: 'T1546.004', name: 'Unix shell configuration modification (.bashrc, /etc/profile…)', tactic: 'persistence' },
  { id: 'T1037.004', name: 'RC scripts (rc.local)', tactic: 'persistence' },
  { id: 'T1546.017', name: 'Udev rules', tactic: 'persistence' },
  { id: 'T1098.004', name: 'SSH authorized keys', tactic: 'persistence' },
  { id: 'T1136.001', name: 'Create account: local account', tactic: 'persistence' },
  { id: 'T1547.006', name: 'Kernel modules and extensions', tactic: 'persistence' },
  { id: 'T1554', name: 'Compromise host software binary (a packaged or baselined file changed)', tactic: 'persistence' },
  { id: 'T1098', name: 'Account manipulation (a user added to an admin group)', tactic: 'persistence' },
  { id: 'T1574.006', name: 'Dynamic linker hijacking (ld.so.preload, LD_PRELOAD)', tactic: 'persistence' },
  { id: 'T1556.003', name: 'Pluggable authentication modules', tactic: 'persistence', notCovered: 'a changed PAM module or stack needs the package checksums of the integrity agent and a clear baseline; not clear-cut on its own' },
  { id: 'T1505.003', name: 'Web shell', tactic: 'persistence', notCovered: 'needs to know the web roots and the application; not clear-cut without an LLM' },
  { id: 'T1546', name: 'Event triggered execution (other: trap, motd, apt hooks)', tactic: 'persistence', notCovered: 'many small hooks; the persistence agent covers the common ones under their own ids' },

  // Privilege escalation
  { id: 'T1548.001', name: 'Setuid and setgid', tactic: 'privilege-escalation' },
  { id: 'T1548.003', name: 'Sudo and sudo caching (sudoers changes)', tactic: 'privilege-escalation' },
  { id: 'T1078.003', name: 'Valid accounts: local accounts (a second UID 0 account)', tactic: 'privilege-escalation' },
  { id: 'T1611', name: 'Escape to host', tactic: 'privilege-escalation' },
  { id: 'T1068', name: 'Exploitation for privilege escalation', tactic: 'privilege-escalation', notCovered: 'an exploit shows only as its result (a root shell from an unprivileged parent); needs process ancestry with credentials over time (kernel tracing)' },
  { id: 'T1055', name: 'Process injection (ptrace, /proc/PID/mem)', tactic: 'privilege-escalation', notCovered: 'needs system call tracing (ptrace, process_vm_writev)' },

  // Defense evasion
  { id: 'T1620', name: 'Reflective code loading (memfd executables)', tactic: 'defense-evasion' },
  { id: 'T1070.004', name: 'File deletion (a process whose executable was deleted)', tactic: 'defense-evasion' },
  { id: 'T1036.004', name: 'Masquerade task or service (a process named like a kernel thread or a system daemon)', tactic: 'defense-evasion' },
  { id: 'T1036.005', name: 'Match legitimate name or location', tactic: 'defense-evasion', notCovered: 'a system daemon\'s name from its usual path is fine; see T1036.004 for a name that does not fit its executable' },
  { id: 'T1564.001', name: 'Hidden files and directories (in odd places)', tactic: 'defense-evasion' },
  { id: 'T1014', name: 'Rootkit (kernel module from outside the module tree)', tactic: 'defense-evasion' },
  { id: 'T1070.002', name: 'Clear Linux or Mac system logs', tactic: 'defense-evasion', notCovered: 'a truncated log needs its size history; log rotation makes a sudden drop common' },
  { id: 'T1070.003', name: 'Clear command history', tactic: 'defense-evasion', notCovered: 'an empty or linked-to-/dev/null history is common on servers; noisy without context' },
  { id: 'T1070.006', name: 'Timestomp', tactic: 'defense-evasion', notCovered: 'needs file change times over time (kernel tracing or an integrity baseline of ctimes)' },
  { id: 'T1222.002', name: 'Linux file and directory permissions modification', tactic: 'defense-evasion', notCovered: 'covered only for the files the integrity agent watches (T1548.001 for setuid); chmod in general needs tracing' },
  { id: 'T1562.001', name: 'Disable or modify tools (security agents stopped)', tactic: 'defense-evasion', notCovered: 'which tools a host should run is the host owner\'s knowledge; not clear-cut without it' },
  { id: 'T1562.006', name: 'Indicator blocking (auditd or syslog off)', tactic: 'defense-evasion', notCovered: 'not clear-cut: many hosts run neither' },
  { id: 'T1027', name: 'Obfuscated files or information', tactic: 'defense-evasion', notCovered: 'not clear-cut without an LLM (base64 pipelines are everywhere)' },

  // Credential access
  { id: 'T1110.001', name: 'Password guessing (SSH brute force)', tactic: 'credential-access' },
  { id: 'T1552.005', name: 'Cloud instance metadata API', tactic: 'credential-access' },
  { id: 'T1003.008', name: '/etc/passwd and /etc/shadow (read by an unexpected process)', tactic: 'credential-access', notCovered: 'reads leave no trace without file access tracing (auditd watch, eBPF)' },
  { id: 'T1003.007', name: 'Proc filesystem (memory of another process)', tactic: 'credential-access', notCovered: 'needs system call tracing' },
  { id: 'T1552.001', name: 'Credentials in files', tactic: 'credential-access', notCovered: 'finding readable secrets is an audit, not a detection: not clear-cut without an LLM' },
  { id: 'T1552.004', name: 'Private keys', tactic: 'credential-access', notCovered: 'reads of keys need file access tracing' },
  { id: 'T1556', name: 'Modify authentication process (sshd config weakening)', tactic: 'credential-access' },

  // Discovery
  { id: 'T1046', name: 'Network service discovery (a scanner running)', tactic: 'discovery', notCovered: 'scanning is also what monitoring does; not clear-cut without an LLM or flow data' },
  { id: 'T1057', name: 'Process discovery', tactic: 'discovery', notCovered: 'ps is normal; not clear-cut' },
  { id: 'T1082', name: 'System information discovery', tactic: 'discovery', notCovered: 'uname, hostnamectl are normal; not clear-cut' },
  { id: 'T1083', name: 'File and directory discovery', tactic: 'discovery', notCovered: 'not clear-cut' },

  // Lateral movement
  { id: 'T1021.004', name: 'Remote services: SSH (new authorized keys, logins from new sources)', tactic: 'lateral-movement', notCovered: 'keys are T1098.004; logins from new sources need a per-host baseline of sources over weeks' },
  { id: 'T1570', name: 'Lateral tool transfer', tactic: 'lateral-movement', notCovered: 'a copied tool is a new file: caught only where it lands (T1204.002 for writable dirs)' },
  { id: 'T1563.001', name: 'SSH hijacking (agent socket of another user)', tactic: 'lateral-movement', notCovered: 'needs file access tracing of SSH_AUTH_SOCK sockets' },

  // Command and control
  { id: 'T1071.001', name: 'Web protocols (beaconing)', tactic: 'command-and-control', notCovered: 'beacons look like any HTTPS client; needs flow timing or threat intelligence' },
  { id: 'T1571', name: 'Non-standard port (connections to mining pools and shells on known ports)', tactic: 'command-and-control' },
  { id: 'T1095', name: 'Non-application layer protocol (raw socket shells)', tactic: 'command-and-control' },
  { id: 'T1105', name: 'Ingress tool transfer (a tool downloaded and run)', tactic: 'command-and-control' },
  { id: 'T1572', name: 'Protocol tunneling (SSH -R/-D, chisel)', tactic: 'command-and-control', notCovered: 'ssh tunnels are common administration; not clear-cut without an LLM' },
  { id: 'T1090', name: 'Proxy', tactic: 'command-and-control', notCovered: 'not clear-cut' },

  // Impact
  { id: 'T1496', name: 'Resource hijacking (cryptominers)', tactic: 'impact' },
  { id: 'T1485', name: 'Data destruction', tactic: 'impact', notCovered: 'needs file activity over time' },
  { id: 'T1486', name: 'Data encrypted for impact', tactic: 'impact', notCovered: 'needs file activity over time (many renames and writes); a ransom note alone is not clear-cut' },
  { id: 'T1489', name: 'Service stop', tactic: 'impact', notCovered: 'failed units are reported by sre-health as health, not as an attack' },
  { id: 'T1529', name: 'System shutdown/reboot', tactic: 'impact', notCovered: 'reboots are routine' },
];
