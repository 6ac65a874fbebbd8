import { spawn } from 'node:child_process';
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readlinkSync, realpathSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { connect, createServer } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { fingerprintFinding } from '../../../src/protocol/fingerprint.js';
import type { CliEvent, Inputs } from '../../agents/sandbox.js';
import { stopChild } from '../../agents/sandbox.js';
import { waitFor } from '../../daimon/run-helpers.js';
import type { CaseSandbox, DetectionCase } from '../detection-case.js';

// Planted cases of the edr agent (agents/edr.md), one or more per rule. Every scope input points into the case's
// sandbox, so the real host's processes and files never enter a case: processes are copies of real binaries started
// from the sandbox (or memfd executables named after it), files are written under it, sockets are on loopback.

/** The edr inputs with every scope narrowed to `dir`: processes started from it, its tmp/ and tree/, an empty auth log. */
function scoped(dir: string, extra: Inputs = {}): Inputs {
  for (const sub of ['bin', 'tmp', 'tree']) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'auth.log'), '');
  return {
    process_scope: [dir],
    exec_dirs: [join(dir, 'tmp')],
    hidden_dirs: [join(dir, 'tmp')],
    odd_name_roots: [join(dir, 'tree')],
    auth_source: 'files',
    auth_log_files: [join(dir, 'auth.log')],
    ...extra,
  };
}

/** What a case started; `stop` ends all of it. */
class Started {
  private readonly children: ChildProcess[] = [];
  private readonly closers: Array<() => void> = [];

  /** Starts `file` (argv[0] `argv0`) and waits until the exec is done: /proc/PID/exe no longer points at node. */
  async run(file: string, args: string[], options: { argv0?: string; stdio?: StdioOptions; exe?: (link: string) => boolean } = {}): Promise<number> {
    const child = spawn(file, args, { stdio: options.stdio ?? 'ignore', ...(options.argv0 !== undefined && { argv0: options.argv0 }) });
    this.children.push(child);
    const pid = child.pid;
    if (pid === undefined) throw new Error(`cannot start ${file}`);
    const done = options.exe ?? ((link: string) => link.startsWith(realpathSync(file)));
    await waitFor(() => done(readlinkOr(`/proc/${pid}/exe`)), 10_000, `${file} to start`);
    return pid;
  }

  /** The pid of the last process started. */
  lastPid(): number {
    const pid = this.children.at(-1)?.pid;
    if (pid === undefined) throw new Error('nothing started');
    return pid;
  }

  /** Keeps a server or socket to close at the end. */
  keep(closer: () => void): void {
    this.closers.push(closer);
  }

  async stop(): Promise<void> {
    for (const child of this.children) await stopChild(child);
    for (const close of this.closers) close();
  }
}

function readlinkOr(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

/** A copy of a real binary (default /bin/sleep) at `path`, written now unless `ageDays` sets its mtime back. */
function copyBinary(path: string, from = '/bin/sleep', ageDays = 0): string {
  mkdirSync(dirname(path), { recursive: true });
  copyFileSync(realpathSync(from), path);
  chmodSync(path, 0o755);
  if (ageDays > 0) {
    const then = Date.now() / 1000 - ageDays * 86_400;
    utimesSync(path, then, then);
  }
  return path;
}

/** A sandbox with only inputs and a cleanup of what `started` holds; plant and benign are given. */
function box(inputs: Inputs, started: Started, steps: Pick<CaseSandbox, 'plant' | 'benign'> & Partial<CaseSandbox>): CaseSandbox {
  return { inputs, cleanup: () => started.stop(), ...steps };
}

/** A loopback TCP server; `onConnection` gets each accepted socket. */
async function tcpServer(started: Started, onConnection: (s: Socket) => void = () => {}): Promise<{ server: Server; port: number }> {
  const server = createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  started.keep(() => server.close());
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0 };
}

/** A connected client socket to `port` (or a unix socket path). */
async function dial(started: Started, to: number | string): Promise<Socket> {
  const socket = typeof to === 'number' ? connect(to, '127.0.0.1') : connect(to);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.on('error', () => {}); // the shell's end closes when the case stops it
  started.keep(() => socket.destroy());
  return socket;
}

/** The pid of fd 0 of `pid` being a socket: the shell got its stdio. */
const onSocket = (pid: number) => () => readlinkOr(`/proc/${pid}/fd/0`).startsWith('socket:');

/** A shell (copy of /bin/SHELL in the sandbox's bin/) whose stdin and stdout are a socket that `connectShell` makes. */
async function shellOn(started: Started, dir: string, shell: string, stdio: Socket | 'pipe'): Promise<number> {
  const exe = copyBinary(join(dir, 'bin', shell), `/bin/${shell}`);
  const pid = await started.run(exe, [], { stdio: [stdio, stdio, 'ignore'] });
  if (stdio !== 'pipe') await waitFor(onSocket(pid), 10_000, `${shell} on its socket`);
  return pid;
}

/** Python that copies /bin/sleep into a memfd named `name` and executes it (fileless, like a loader would). */
const MEMFD_LOADER = [
  'import os, sys',
  'fd = os.memfd_create(sys.argv[1], 0)',
  "os.write(fd, open('/bin/sleep', 'rb').read())",
  "os.execv('/proc/self/fd/%d' % fd, ['payload', '600'])",
].join('\n');

/** Three findings of one problem: one fingerprint, three pids. */
function oneGroupOfThree(findings: CliEvent[]): void {
  const fingerprints = new Set(findings.map((f) => fingerprintFinding(f as unknown as Parameters<typeof fingerprintFinding>[0])));
  const pids = new Set(findings.map((f) => /pid:(\d+)/.exec(String(f.resource))?.[1]));
  if (findings.length !== 3 || fingerprints.size !== 1 || pids.size !== 3) {
    throw new Error(`expected 3 findings (3 pids) in one group, got ${findings.length} findings, ${pids.size} pids, ${fingerprints.size} fingerprints: ${JSON.stringify(findings.map((f) => [f.resource, f.dedup_key]))}`);
  }
}

const authLine = (i: number) => `Jan  5 12:00:${String(i % 60).padStart(2, '0')} web sshd[${900 + i}]: Failed password for root from 203.0.113.9 port ${41000 + i} ssh2`;

/** The edr agent's detection cases. */
export const cases: DetectionCase[] = [
  {
    id: 'edr-reverse-shell-bash',
    techniques: ['T1059.004', 'T1095'],
    agent: 'edr',
    rule: 'shell-network-socket',
    planted: 'bash whose stdin and stdout are a TCP connection it made to a loopback listener (a reverse shell)',
    clean: 'bash reading a pipe',
    async setup(dir) {
      const started = new Started();
      return box(scoped(dir), started, {
        async plant() {
          const { port } = await tcpServer(started);
          await shellOn(started, dir, 'bash', await dial(started, port));
        },
        async benign() {
          await shellOn(started, dir, 'bash', 'pipe');
        },
        check(findings) {
          // The identity is the shell and where it dialled, not the ephemeral local port or the pid.
          if (!findings.every((f) => /^shell-socket:.*\/bash:out:127\.0\.0\.1:\d+$/.test(String(f.dedup_key)))) throw new Error(`unexpected identity ${JSON.stringify(findings.map((f) => f.dedup_key))}`);
        },
      });
    },
  },
  {
    id: 'edr-bind-shell-sh',
    techniques: ['T1059.004'],
    agent: 'edr',
    rule: 'shell-network-socket',
    planted: 'sh whose stdin and stdout are a connection accepted on a loopback listener (a bind shell)',
    clean: 'sh whose stdin and stdout are a unix socket (not a network socket)',
    async setup(dir) {
      const started = new Started();
      return box(scoped(dir), started, {
        async plant() {
          const accepted = new Promise<Socket>((resolve) => {
            void tcpServer(started, resolve).then(({ port }) => dial(started, port));
          });
          const socket = await accepted;
          started.keep(() => socket.destroy());
          await shellOn(started, dir, 'sh', socket);
        },
        async benign() {
          const path = join(dir, 'tmp', 'shell.sock');
          const server = createServer(() => {});
          await new Promise<void>((resolve) => server.listen(path, resolve));
          started.keep(() => server.close());
          await shellOn(started, dir, 'sh', await dial(started, path));
        },
        check(findings) {
          if (!findings.every((f) => /:in:\*:\d+$/.test(String(f.dedup_key)))) throw new Error(`expected an inbound endpoint: ${JSON.stringify(findings.map((f) => f.dedup_key))}`);
        },
      });
    },
  },
  {
    id: 'edr-reverse-shell-python',
    techniques: ['T1059.006'],
    agent: 'edr',
    rule: 'shell-network-socket',
    planted: 'python3 that dialled a loopback listener, put the socket on stdin/stdout and spawned sh on a pty',
    clean: 'python3 holding a TCP connection on another descriptor (an ordinary client)',
    async setup(dir) {
      const started = new Started();
      const python = copyBinary(join(dir, 'bin', 'python3'), '/usr/bin/python3');
      const pythonOn = async (script: string, port: number): Promise<void> => {
        const pid = await started.run(python, ['-c', script, String(port)]);
        await waitFor(() => readlinkOr(`/proc/${pid}/fd/3`).startsWith('socket:'), 10_000, 'python to connect');
      };
      const connectTo = "import os, socket, sys\ns = socket.create_connection(('127.0.0.1', int(sys.argv[1])))\n";
      return box(scoped(dir), started, {
        async plant() {
          const { port } = await tcpServer(started);
          await pythonOn(`${connectTo}for fd in (0, 1, 2): os.dup2(s.fileno(), fd)\nimport pty\npty.spawn('/bin/sh')\n`, port);
          await waitFor(onSocket(started.lastPid()), 10_000, 'python on its socket');
        },
        async benign() {
          const { port } = await tcpServer(started);
          await pythonOn(`${connectTo}import time\ntime.sleep(600)\n`, port);
        },
      });
    },
  },
  {
    id: 'edr-kernel-thread-name',
    techniques: ['T1036.004'],
    agent: 'edr',
    rule: 'kernel-thread-masquerade',
    planted: 'a copy of sleep started with argv[0] [kworker/0:2]',
    clean: 'the same copy started with argv[0] kworker-pool',
    async setup(dir) {
      const started = new Started();
      const exe = copyBinary(join(dir, 'bin', 'kw'));
      return box(scoped(dir), started, {
        plant: async () => void (await started.run(exe, ['600'], { argv0: '[kworker/0:2]' })),
        benign: async () => void (await started.run(exe, ['600'], { argv0: 'kworker-pool' })),
      });
    },
  },
  {
    id: 'edr-fake-sshd',
    techniques: ['T1036.005'],
    agent: 'edr',
    rule: 'daemon-masquerade',
    planted: 'a process named sshd running from the sandbox, not /usr/sbin/sshd',
    clean: 'the same process when daemon_paths lists its path as sshd\'s',
    async setup(dir) {
      const started = new Started();
      const exe = copyBinary(join(dir, 'bin', 'sshd'));
      const inputs = scoped(dir);
      return box(inputs, started, {
        plant: async () => void (await started.run(exe, ['600'])),
        async benign() {
          inputs.daemon_paths = [`sshd=/usr/sbin/sshd,${exe}`];
          await started.run(exe, ['600']);
        },
      });
    },
  },
  {
    id: 'edr-recently-written-executable',
    techniques: ['T1204.002', 'T1105'],
    agent: 'edr',
    rule: 'recently-written-executable',
    planted: 'a binary written into the sandbox now and run',
    clean: 'a running binary whose file is two days old',
    async setup(dir) {
      const started = new Started();
      return box(scoped(dir), started, {
        plant: async () => void (await started.run(copyBinary(join(dir, 'bin', 'fresh')), ['600'])),
        benign: async () => void (await started.run(copyBinary(join(dir, 'bin', 'old'), '/bin/sleep', 2), ['600'])),
      });
    },
  },
  {
    id: 'edr-deleted-executable',
    techniques: ['T1070.004'],
    agent: 'edr',
    rule: 'deleted-executable',
    planted: 'a process whose executable was removed after it started',
    clean: 'the same process with its executable in place',
    async setup(dir) {
      const started = new Started();
      const exe = copyBinary(join(dir, 'bin', 'payload'));
      return box(scoped(dir), started, {
        async plant() {
          await started.run(exe, ['600']);
          unlinkSync(exe);
        },
        benign: async () => void (await started.run(exe, ['600'])),
      });
    },
  },
  {
    id: 'edr-deleted-executable-three-pids',
    techniques: ['T1070.004'],
    agent: 'edr',
    rule: 'deleted-executable',
    planted: 'three processes of one removed executable, reported as one group of three',
    clean: 'a removed executable listed in deleted_exe_allow',
    async setup(dir) {
      const started = new Started();
      const exe = copyBinary(join(dir, 'bin', 'payload'));
      const inputs = scoped(dir);
      const startThree = async () => {
        for (let i = 0; i < 3; i++) await started.run(exe, ['600']);
        unlinkSync(exe);
      };
      return box(inputs, started, {
        plant: startThree,
        async benign() {
          inputs.deleted_exe_allow = [exe];
          await startThree();
        },
        check: oneGroupOfThree,
      });
    },
  },
  {
    id: 'edr-memfd-executable-three-pids',
    techniques: ['T1620'],
    agent: 'edr',
    rule: 'memfd-executable',
    planted: 'three processes executing a memfd of one name (python os.memfd_create + execv), one group of three',
    clean: 'the same memfd name listed in memfd_allow',
    async setup(dir) {
      const started = new Started();
      // The memfd name starts with a name unique to this sandbox, so process_scope can narrow to /memfd:THAT.
      const scope = basename(join(dir, '..'));
      const name = `${scope}/payload`;
      const inputs = scoped(dir, { process_scope: [`/memfd:${scope}`] });
      const startThree = async () => {
        for (let i = 0; i < 3; i++) await started.run('/usr/bin/python3', ['-c', MEMFD_LOADER, name], { exe: (link) => link.startsWith(`/memfd:${name}`) });
      };
      return box(inputs, started, {
        plant: startThree,
        async benign() {
          inputs.memfd_allow = [name];
          await startThree();
        },
        check: oneGroupOfThree,
      });
    },
  },
  {
    id: 'edr-exec-from-writable-dir',
    techniques: ['T1204.002', 'T1105'],
    agent: 'edr',
    rule: 'exec-from-writable-dir',
    planted: 'a process running from a directory of exec_dirs',
    clean: 'the same binary running from a directory outside exec_dirs',
    async setup(dir) {
      const started = new Started();
      return box(scoped(dir), started, {
        plant: async () => void (await started.run(copyBinary(join(dir, 'tmp', 'kworkerd')), ['600'])),
        benign: async () => void (await started.run(copyBinary(join(dir, 'bin', 'kworkerd')), ['600'])),
      });
    },
  },
  {
    id: 'edr-new-executable-in-tmp',
    techniques: ['T1204.002', 'T1105'],
    agent: 'edr',
    rule: 'new-executable-in-writable-dir',
    planted: 'an executable script dropped into an exec_dirs directory since the previous run',
    clean: 'a plain (not executable) file written there',
    async setup(dir) {
      const started = new Started();
      return box(scoped(dir), started, {
        needsBaseline: true,
        plant: async () => writeFileSync(join(dir, 'tmp', 'dropper.sh'), '#!/bin/sh\n', { mode: 0o755 }),
        benign: async () => writeFileSync(join(dir, 'tmp', 'notes.txt'), 'x\n', { mode: 0o644 }),
      });
    },
  },
  {
    id: 'edr-hidden-dir-in-tmp',
    techniques: ['T1564.001'],
    agent: 'edr',
    rule: 'hidden-file-in-temp',
    planted: 'a dot-named directory holding a binary in a hidden_dirs directory',
    clean: 'a plainly named directory there',
    async setup(dir) {
      const started = new Started();
      const make = (name: string) => {
        mkdirSync(join(dir, 'tmp', name));
        writeFileSync(join(dir, 'tmp', name, 'x'), 'x\n');
      };
      return box(scoped(dir), started, { plant: async () => make('.cache-x'), benign: async () => make('cache-x') });
    },
  },
  {
    id: 'edr-dots-directory',
    techniques: ['T1564.001'],
    agent: 'edr',
    rule: 'deceptive-file-name',
    planted: 'a directory named "..." deep in a system-like tree',
    clean: 'names with dots and blanks inside them (notes...txt, a b)',
    async setup(dir) {
      const started = new Started();
      const lib = join(dir, 'tree', 'usr', 'lib');
      mkdirSync(lib, { recursive: true });
      return box(scoped(dir), started, {
        plant: async () => mkdirSync(join(lib, '...')),
        async benign() {
          writeFileSync(join(lib, 'notes...txt'), 'x\n');
          writeFileSync(join(lib, 'a b'), 'x\n');
          writeFileSync(join(lib, '.profile'), 'x\n');
        },
      });
    },
  },
  {
    id: 'edr-dot-dot-space',
    techniques: ['T1564.001'],
    agent: 'edr',
    rule: 'deceptive-file-name',
    planted: 'a directory named ".. " (two dots and a blank)',
    clean: 'a directory named ".." plus a letter (..x)',
    async setup(dir) {
      const started = new Started();
      return box(scoped(dir), started, {
        plant: async () => mkdirSync(join(dir, 'tree', '.. ')),
        benign: async () => mkdirSync(join(dir, 'tree', '..x')),
      });
    },
  },
  {
    id: 'edr-ssh-brute-force',
    techniques: ['T1110.001'],
    agent: 'edr',
    rule: 'ssh-brute-force',
    planted: '25 failed SSH passwords from one address in the auth log',
    clean: '5 failed SSH passwords from one address (below auth_fail_threshold)',
    async setup(dir) {
      const started = new Started();
      const log = (n: number) => writeFileSync(join(dir, 'auth.log'), `${Array.from({ length: n }, (_, i) => authLine(i)).join('\n')}\n`);
      return box(scoped(dir), started, { plant: async () => log(25), benign: async () => log(5) });
    },
  },
];
