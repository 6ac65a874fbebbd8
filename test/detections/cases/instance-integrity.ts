import { deepStrictEqual } from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { dirname, join } from 'node:path';
import type { CaseSandbox, DetectionCase } from '../detection-case.js';
import type { CliEvent, Inputs } from '../../agents/sandbox.js';

// instance-integrity against files, a package database and a module list the case owns: watched_paths name files
// in the sandbox, package_root is a sandbox dpkg root (dpkg --root), proc_modules a copy of /proc/modules and
// module_dirs a module tree with a modules.dep for the running kernel (uname -r).

function put(dir: string, rel: string, text: string, mode = 0o644): string {
  const file = join(dir, rel);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text, { mode });
  chmodSync(file, mode);
  return file;
}

const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

/** Inputs that keep every collector on the sandbox (a package that is not installed, a missing module list). */
function quietInputs(dir: string): Inputs {
  return {
    watched_paths: [join(dir, 'none')],
    verify_packages: ['okesu-no-such-package'],
    proc_modules: join(dir, 'no-proc-modules'),
    module_dirs: [join(dir, 'no-modules')],
  };
}

type Step = (dir: string) => void;

/** What the planted run must report, exactly: severity, resource and dedup key of each finding. */
type Expected = { severity: string; resource: string; dedup_key: string }[];

const identity = (findings: CliEvent[]): Expected =>
  findings.map((f) => ({ severity: String(f.severity), resource: String(f.resource), dedup_key: String(f.dedup_key) }));

function integrityCase(c: Omit<DetectionCase, 'agent' | 'setup'> & { baseline: boolean; prepare: (dir: string) => Inputs; plant: Step; benign: Step; expect?: Expected }): DetectionCase {
  return {
    id: c.id,
    techniques: c.techniques,
    agent: 'instance-integrity',
    rule: c.rule,
    planted: c.planted,
    clean: c.clean,
    setup: (dir: string): Promise<CaseSandbox> => {
      const inputs = { ...quietInputs(dir), ...c.prepare(dir) };
      return Promise.resolve({
        inputs,
        needsBaseline: c.baseline,
        plant: () => Promise.resolve(c.plant(dir)),
        benign: () => Promise.resolve(c.benign(dir)),
        cleanup: () => Promise.resolve(),
        ...(c.expect && { check: (findings: CliEvent[]) => deepStrictEqual(identity(findings), c.expect) }),
      });
    },
  };
}

const ELF_LIKE = '\x7fELF original build of ls\n';

/** A one-package dpkg database under `dir/pkgroot`: okesu-demo owns /usr/bin/okesu-demo and the conffile /etc/okesu-demo.conf. */
function dpkgRoot(dir: string): string {
  const root = join(dir, 'pkgroot');
  const bin = 'demo binary v1\n';
  const conf = 'level=1\n';
  put(root, 'usr/bin/okesu-demo', bin, 0o755);
  put(root, 'etc/okesu-demo.conf', conf);
  put(root, 'var/lib/dpkg/status', ['Package: okesu-demo', 'Status: install ok installed', 'Priority: optional', 'Section: misc',
    'Maintainer: Okesu <dev@okesu.invalid>', 'Architecture: all', 'Version: 1.0', 'Conffiles:', ` /etc/okesu-demo.conf ${md5(conf)}`,
    'Description: planted package', ''].join('\n') + '\n');
  put(root, 'var/lib/dpkg/info/okesu-demo.list', '/.\n/usr\n/usr/bin\n/usr/bin/okesu-demo\n/etc\n/etc/okesu-demo.conf\n');
  put(root, 'var/lib/dpkg/info/okesu-demo.md5sums', `${md5(bin)}  usr/bin/okesu-demo\n`);
  mkdirSync(join(root, 'var/lib/dpkg/updates'), { recursive: true });
  return root;
}

/** A module tree for the running kernel (its modules.dep) under `dir/modules`. */
function moduleTree(dir: string): string {
  const tree = join(dir, 'modules');
  put(tree, `${release()}/modules.dep`, [
    'kernel/fs/btrfs/btrfs.ko.zst: kernel/lib/raid6/raid6_pq.ko.zst',
    'kernel/lib/raid6/raid6_pq.ko.zst:',
    'kernel/net/netfilter/nf_conntrack.ko.zst:',
    'updates/dkms/zfs.ko.xz: updates/dkms/spl.ko.xz',
    'updates/dkms/spl.ko.xz:',
  ].join('\n') + '\n');
  return tree;
}

const STOCK_MODULES = [
  'btrfs 1818624 0 - Live 0x0000000000000000',
  'raid6_pq 122880 1 btrfs, Live 0x0000000000000000',
  'nf_conntrack 188416 0 - Live 0x0000000000000000',
];
const modules = (lines: string[]): string => lines.join('\n') + '\n';

/** instance-integrity's planted cases: one or more per rule. */
export const cases: DetectionCase[] = [
  integrityCase({
    id: 'integrity-file-content-drift',
    techniques: ['T1554'],
    rule: 'file-content-drift',
    planted: 'a watched binary replaced with other content',
    clean: 'the same binary rewritten with identical content (new mtime)',
    baseline: true,
    prepare: (dir) => ({ watched_paths: [put(dir, 'usr/bin/ls', ELF_LIKE, 0o755)] }),
    plant: (dir) => put(dir, 'usr/bin/ls', '\x7fELF trojaned ls that hides files\n', 0o755),
    benign: (dir) => put(dir, 'usr/bin/ls', ELF_LIKE, 0o755),
  }),
  integrityCase({
    id: 'integrity-file-content-drift-appears',
    techniques: ['T1574.006'],
    rule: 'file-content-drift',
    planted: 'a watched path that did not exist (/etc/ld.so.preload) appearing',
    clean: 'a new file in a watched directory (new paths join the baseline)',
    baseline: true,
    prepare: (dir) => {
      mkdirSync(join(dir, 'etc/sudoers.d'), { recursive: true });
      return { watched_paths: [join(dir, 'etc/ld.so.preload'), join(dir, 'etc/sudoers.d')] };
    },
    plant: (dir) => put(dir, 'etc/ld.so.preload', '/usr/local/lib/libprocesshider.so\n'),
    benign: (dir) => put(dir, 'etc/sudoers.d/ops', 'ops ALL=(ALL) ALL\n', 0o440),
  }),
  integrityCase({
    id: 'integrity-file-permission-drift',
    techniques: ['T1222.002'],
    rule: 'file-permission-drift',
    planted: 'a watched file made world-writable',
    clean: 'its content changed, mode and owner kept',
    baseline: true,
    prepare: (dir) => ({ watched_paths: [put(dir, 'etc/passwd', 'root:x:0:0:root:/root:/bin/bash\n')] }),
    plant: (dir) => chmodSync(join(dir, 'etc/passwd'), 0o666),
    benign: (dir) => put(dir, 'etc/passwd', 'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n'),
  }),
  integrityCase({
    id: 'integrity-package-file-modified',
    techniques: ['T1554'],
    rule: 'package-file-modified',
    planted: 'a packaged binary whose content no longer matches dpkg md5sums',
    clean: "the package's configuration file edited by an administrator",
    baseline: false,
    prepare: (dir) => ({ package_root: dpkgRoot(dir), verify_packages: ['okesu-demo'] }),
    plant: (dir) => put(join(dir, 'pkgroot'), 'usr/bin/okesu-demo', 'demo binary with a backdoor\n', 0o755),
    expect: [{ severity: 'HIGH', resource: 'path:/usr/bin/okesu-demo', dedup_key: 'package-checksum' }],
    benign: (dir) => put(join(dir, 'pkgroot'), 'etc/okesu-demo.conf', 'level=2\n'),
  }),
  integrityCase({
    id: 'integrity-new-kernel-module',
    techniques: ['T1547.006'],
    rule: 'new-kernel-module',
    planted: 'a module loaded that was not loaded at the baseline',
    clean: 'the same modules with other use counts, in another order',
    baseline: true,
    prepare: (dir) => ({ proc_modules: put(dir, 'proc/modules', modules(STOCK_MODULES)) }),
    plant: (dir) => put(dir, 'proc/modules', modules([...STOCK_MODULES, 'diamorphine 16384 0 - Live 0x0000000000000000 (OE)'])),
    expect: [{ severity: 'LOW', resource: 'module:diamorphine', dedup_key: 'kernel-module' }],
    benign: (dir) => put(dir, 'proc/modules', modules([
      'nf_conntrack 188416 3 - Live 0x0000000000000000',
      'btrfs 1818624 1 - Live 0x0000000000000000',
      'raid6_pq 122880 1 btrfs, Live 0x0000000000000000',
    ])),
  }),
  integrityCase({
    id: 'integrity-module-outside-tree',
    techniques: ['T1547.006', 'T1014'],
    rule: 'module-outside-tree',
    planted: "a loaded module that is not in the running kernel's modules.dep (insmod from /tmp)",
    clean: 'a newly loaded module of the module tree',
    baseline: false,
    prepare: (dir) => ({ proc_modules: put(dir, 'proc/modules', modules(STOCK_MODULES)), module_dirs: [moduleTree(dir)] }),
    plant: (dir) => put(dir, 'proc/modules', modules([...STOCK_MODULES, 'reptile_module 28672 0 - Live 0x0000000000000000 (OE)'])),
    expect: [{ severity: 'HIGH', resource: 'module:reptile_module', dedup_key: 'module-outside-tree' }],
    benign: (dir) => put(dir, 'proc/modules', modules([...STOCK_MODULES, 'spl 118784 0 - Live 0x0000000000000000'])),
  }),
  integrityCase({
    id: 'integrity-module-taints-kernel',
    techniques: ['T1547.006'],
    rule: 'module-taints-kernel',
    planted: 'an out-of-tree, unsigned module (taint OE) inside the module tree',
    clean: 'a DKMS module listed in module_allow',
    baseline: false,
    prepare: (dir) => ({ proc_modules: put(dir, 'proc/modules', modules(STOCK_MODULES)), module_dirs: [moduleTree(dir)], module_allow: ['zfs'] }),
    plant: (dir) => put(dir, 'proc/modules', modules([...STOCK_MODULES, 'spl 118784 0 - Live 0x0000000000000000 (OE)'])),
    expect: [{ severity: 'MEDIUM', resource: 'module:spl', dedup_key: 'module-taint:OE' }],
    benign: (dir) => put(dir, 'proc/modules', modules([...STOCK_MODULES, 'zfs 5754880 0 - Live 0x0000000000000000 (POE)'])),
  }),
];
