import { createHash } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkToolCall } from '../../src/specs/gate.js';
import { EMPTY_POLICY } from '../../src/specs/policy-spec.js';
import { BASE_TOOLS, hasTool, loadBuiltin, restrictedPath, ruleMatches, ruleOf, runCollector, sandbox } from './sandbox.js';

// Each collector run directly (sh -c, inputs in the environment) against a sandbox, and each rule's expression
// against what it printed. Tools are hidden with a restricted PATH to check how a collector degrades.

let box: ReturnType<typeof sandbox>;
beforeAll(() => {
  box = sandbox('okesu-collectors-');
});
afterAll(() => box.cleanup());

const listen = (host: string): Promise<{ server: Server; port: number }> =>
  new Promise((resolve) => {
    const server = createServer(() => {}).listen(0, host, () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0 });
    });
  });

describe('edr collectors', () => {
  const edr = loadBuiltin('edr');

  it('sockets lists a loopback listener from ss, and from /proc/net/tcp when ss is missing', async () => {
    const { server, port } = await listen('127.0.0.1');
    try {
      const fallback = await runCollector(edr, 'sockets', {}, { PATH: restrictedPath(box.dir, BASE_TOOLS) });
      expect(fallback.code).toBe(0);
      expect(fallback.lines).toContain(`state=LISTEN local=127.0.0.1:${port} lport=${port} peer=0.0.0.0:* rport=* proc=-`);
      if (hasTool('ss')) {
        const withSs = await runCollector(edr, 'sockets');
        expect(withSs.lines.some((l) => l.startsWith(`state=LISTEN local=127.0.0.1:${port} lport=${port} `))).toBe(true);
      }
    } finally {
      server.close();
    }
  });

  it('ssh_auth counts failures and logins per source from the auth log files, and the brute-force rule reads them', async () => {
    const log = join(box.dir, 'auth.log');
    const fail = (i: number) => `Jan  5 12:00:${String(i % 60).padStart(2, '0')} h sshd[${100 + i}]: Failed password for invalid user admin${i % 3} from 203.0.113.9 port ${40000 + i} ssh2`;
    writeFileSync(log, [
      ...Array.from({ length: 25 }, (_, i) => fail(i)),
      'Jan  5 12:01:00 h sshd[200]: Accepted publickey for alice from 198.51.100.7 port 50000 ssh2: ED25519 SHA256:x',
      'Jan  5 12:01:01 h sshd[201]: Failed password for root from 198.51.100.7 port 50001 ssh2',
      'Jan  5 12:01:02 h sudo: pam_unix(sudo:auth): authentication failure; logname= uid=1000 rhost=',
      'Jan  5 12:01:03 h sshd[202]: Failed password for invalid user $(reboot) from 192.0.2.1 port 1 ssh2',
    ].join('\n') + '\n');
    const r = await runCollector(edr, 'ssh_auth', { auth_source: 'files', auth_log_files: [join(box.dir, 'none'), log] });
    expect(r.code).toBe(0);
    expect(r.lines.sort()).toEqual([
      'accepted source=198.51.100.7 user=alice method=publickey count=1',
      'failed source=192.0.2.1 events=1 users=__reboot_',
      'failed source=198.51.100.7 events=1 users=root',
      'failed source=203.0.113.9 events=25 users=admin0,admin1,admin2',
    ]);
    const rule = ruleOf(edr, 'ssh-brute-force');
    expect(ruleMatches(rule, r.lines).map((m) => [m.source, m.events])).toEqual(
      expect.arrayContaining([['203.0.113.9', '25'], ['198.51.100.7', '1']]),
    );
    expect(rule.threshold).toEqual({ capture: 'events', op: '>=', value: '{{inputs.auth_fail_threshold}}' });
  });

  it('ssh_auth is skipped with a reason when there is no journal and no log file', async () => {
    const r = await runCollector(edr, 'ssh_auth', { auth_source: 'files', auth_log_files: [join(box.dir, 'missing.log')] });
    expect(r.code).toBe(77);
    expect(r.stderr).toMatch(/no readable journal or auth_log_files/);
  });

  it('processes and tmp_files are skipped with a reason when their dirs do not exist or find lacks -printf', async () => {
    const none = await runCollector(edr, 'tmp_files', { exec_dirs: [join(box.dir, 'nope')] });
    expect(none.code).toBe(77);
    expect(none.stderr).toMatch(/none of the exec_dirs exists/);
    const noFind = await runCollector(edr, 'processes', {}, { PATH: restrictedPath(box.dir, BASE_TOOLS.filter((t) => t !== 'find')) });
    expect(noFind.code).toBe(77);
    expect(noFind.stderr).toMatch(/GNU find/);
  });

  it('tmp_files lists executables first (for the rule) and recent plain files, one stable line each', async () => {
    const dir = join(box.dir, 'tmpdir');
    mkdirSync(dir);
    writeFileSync(join(dir, 'payload'), '#!/bin/sh\n', { mode: 0o755 });
    writeFileSync(join(dir, 'notes.txt'), 'x');
    writeFileSync(join(dir, 'evil\nexec=yes mode=755 uid=0 path=fake'), 'x', { mode: 0o755 });
    const r = await runCollector(edr, 'tmp_files', { exec_dirs: [dir] });
    expect(r.code).toBe(0);
    expect(r.lines).toEqual(expect.arrayContaining([
      `exec=yes mode=755 uid=${process.getuid?.() ?? 0} path=${dir}/payload`,
      `exec=no mode=644 uid=${process.getuid?.() ?? 0} path=${dir}/notes.txt`,
    ]));
    // A newline in a file name cannot forge a second record.
    expect(r.lines.filter((l) => l.includes('fake'))).toEqual([`exec=yes mode=755 uid=${process.getuid?.() ?? 0} path=${dir}/evil?exec=yes mode=755 uid=0 path=fake`]);
    expect(ruleMatches(ruleOf(edr, 'new-executable-in-writable-dir'), r.lines).map((m) => m.path).sort()).toEqual([
      `${dir}/evil?exec=yes mode=755 uid=0 path=fake`,
      `${dir}/payload`,
    ]);
  });
});

describe('edr process and file collectors added for issue 18', () => {
  const edr = loadBuiltin('edr');

  it('skip with a reason when find lacks -printf or no directory to search exists', async () => {
    const noFind = { PATH: restrictedPath(box.dir, BASE_TOOLS.filter((t) => t !== 'find')) };
    for (const name of ['shell_sockets', 'masquerade', 'recent_executables', 'hidden_files']) {
      const r = await runCollector(edr, name, {}, noFind);
      expect([name, r.code, r.stderr]).toEqual([name, 77, expect.stringMatching(/^skipped: needs GNU find/)]);
    }
    const none = await runCollector(edr, 'hidden_files', { hidden_dirs: [join(box.dir, 'nope')], odd_name_roots: [] });
    expect([none.code, none.stderr]).toEqual([77, expect.stringMatching(/none of hidden_dirs and odd_name_roots exists/)]);
  });

  it('recent_executables refuses a clock it does not know, naming the input', async () => {
    const clock = await runCollector(edr, 'recent_executables', { recent_exec_clock: 'atime' });
    expect([clock.code, clock.stderr]).toEqual([2, expect.stringMatching(/recent_exec_clock must be mtime or ctime/)]);
  });

  it('masquerade never lists a kernel thread (no executable) and hidden_files keeps a forged newline in one record', async () => {
    const all = await runCollector(edr, 'masquerade', { process_scope: ['/'] });
    expect(all.code).toBe(0);
    for (const line of all.lines) expect(line).toMatch(/ exe=\/\S/);
    const dir = join(box.dir, 'hidden');
    mkdirSync(join(dir, '.. \nkind=odd why=x type=d uid=0 path=fake'), { recursive: true });
    const r = await runCollector(edr, 'hidden_files', { hidden_dirs: [dir], odd_name_roots: [dir] });
    expect(r.lines).toEqual([`kind=dot why=dot-name type=d uid=${process.getuid?.() ?? 0} path=${dir}/.. ?kind=odd why=x type=d uid=0 path=fake`]);
  });
});

describe('instance-threat collectors', () => {
  const threat = loadBuiltin('instance-threat');

  it('authorized_keys identifies keys without ssh-keygen too, skipping comments and junk', async () => {
    const file = join(box.dir, 'authorized_keys');
    const blob = 'AAAAC3NzaC1lZDI1NTE5AAAAIBv4ZLWNSyC4KkxZVIpjIpMzjbzL9I9ONpfA3D7Uf7dD';
    writeFileSync(file, `# comment\n\ncommand="/bin/true",no-pty ssh-ed25519 ${blob} alice@laptop two\ngarbage\n`);
    const r = await runCollector(threat, 'authorized_keys', { authorized_keys: [file, join(box.dir, 'none', '*')] }, { PATH: restrictedPath(box.dir, BASE_TOOLS) });
    expect(r.code).toBe(0);
    expect(r.lines).toEqual([`fp=blob:${blob.slice(-43)} type=ssh-ed25519 file=${file} comment=alice@laptop two`]);
    expect(ruleMatches(ruleOf(threat, 'new-authorized-key'), r.lines)[0]).toMatchObject({ file, comment: 'alice@laptop two' });
  });

  it('cron_entries prints jobs per file, leaving out comments and environment lines; preload lists libraries', async () => {
    const cron = join(box.dir, 'cron.d');
    mkdirSync(cron);
    writeFileSync(join(cron, 'job'), '# m h dom mon dow user command\nSHELL=/bin/sh\nMAILTO = root\n\n*/5 * * * * root /usr/bin/true\n');
    const r = await runCollector(threat, 'cron_entries', { cron_paths: [cron, join(box.dir, 'no-crontab')] });
    expect(r.lines).toEqual([`file=${cron}/job entry=*/5 * * * * root /usr/bin/true`]);
    const preload = join(box.dir, 'ld.so.preload');
    writeFileSync(preload, '# nothing\n/lib/evil.so /lib/other.so\n');
    const p = await runCollector(threat, 'preload', { preload_files: [preload, join(box.dir, 'absent')] });
    expect(p.lines).toEqual([`preload file=${preload} lib=/lib/evil.so`, `preload file=${preload} lib=/lib/other.so`]);
    expect(ruleMatches(ruleOf(threat, 'ld-preload'), p.lines).map((m) => m.lib)).toEqual(['/lib/evil.so', '/lib/other.so']);
  });

  it('setuid_files finds setuid and setgid files under the roots, pruning excluded paths', async () => {
    const root = join(box.dir, 'suid-root');
    mkdirSync(join(root, 'images'), { recursive: true });
    writeFileSync(join(root, 'su-copy'), 'x', { mode: 0o4755 });
    writeFileSync(join(root, 'gid-tool'), 'x', { mode: 0o2755 });
    writeFileSync(join(root, 'plain'), 'x', { mode: 0o755 });
    writeFileSync(join(root, 'images', 'in-image'), 'x', { mode: 0o4755 });
    const uid = process.getuid?.() ?? 0;
    const r = await runCollector(threat, 'setuid_files', { setuid_roots: [root], setuid_exclude: [join(root, 'images')] });
    expect(r.lines).toEqual([`mode=2755 uid=${uid} path=${root}/gid-tool`, `mode=4755 uid=${uid} path=${root}/su-copy`]);
    expect(ruleMatches(ruleOf(threat, 'new-setuid-binary'), r.lines).map((m) => m.path)).toEqual([`${root}/su-copy`]);
    expect(ruleMatches(ruleOf(threat, 'new-setgid-binary'), r.lines).map((m) => m.path)).toEqual([`${root}/gid-tool`]);
    const none = await runCollector(threat, 'setuid_files', { setuid_roots: [join(box.dir, 'nope')] });
    expect(none.code).toBe(77);
    expect(none.stderr).toMatch(/none of the setuid_roots exists/);
  });

  it('metadata_access and miner_processes are skipped with a reason when ss or ps is missing', async () => {
    const path = restrictedPath(box.dir, BASE_TOOLS);
    const m = await runCollector(threat, 'metadata_access', {}, { PATH: path });
    expect([m.code, m.stderr]).toEqual([77, expect.stringMatching(/ss is not installed/)]);
    const p = await runCollector(threat, 'miner_processes', {}, { PATH: path });
    expect([p.code, p.stderr]).toEqual([77, expect.stringMatching(/ps is not installed/)]);
  });
});

describe('instance-integrity collectors', () => {
  const integrity = loadBuiltin('instance-integrity');

  it('file_hashes hashes files, expands directories and globs, and names absent and non-file paths', async () => {
    const dir = join(box.dir, 'watched');
    mkdirSync(join(dir, 'conf.d', 'sub'), { recursive: true });
    writeFileSync(join(dir, 'passwd'), 'root:x:0:0::/root:/bin/sh\n');
    writeFileSync(join(dir, 'conf.d', 'a.conf'), 'a\n');
    writeFileSync(join(dir, 'conf.d', '.hidden'), 'h\n');
    symlinkSync('/dev/null', join(dir, 'devnull'));
    const r = await runCollector(integrity, 'file_hashes', {
      watched_paths: [join(dir, 'passwd'), join(dir, 'conf.d'), join(dir, 'gone'), join(dir, 'devnull'), join(dir, 'no-*.glob'), 'relative/ignored'],
    });
    expect(r.code).toBe(0);
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    expect(r.lines).toEqual([
      `sha256=${sha('root:x:0:0::/root:/bin/sh\n')} path=${dir}/passwd`,
      `sha256=${sha('a\n')} path=${dir}/conf.d/a.conf`,
      `sha256=${sha('h\n')} path=${dir}/conf.d/.hidden`,
      `sha256=absent path=${dir}/gone`,
      `sha256=not-a-file path=${dir}/devnull`,
    ]);
    const rule = ruleOf(integrity, 'file-content-drift');
    expect(ruleMatches(rule, r.lines).map((m) => m.path)).toHaveLength(5);
    const perms = await runCollector(integrity, 'file_permissions', { watched_paths: [join(dir, 'passwd'), join(dir, 'gone')] });
    const uid = process.getuid?.() ?? 0;
    expect(perms.lines).toEqual([`mode=644 uid=${uid} gid=${process.getgid?.() ?? 0} type=f path=${dir}/passwd`]);
  });

  it('package_verify is skipped with a reason without dpkg or rpm, and prints nothing for unknown packages', async () => {
    const skipped = await runCollector(integrity, 'package_verify', {}, { PATH: restrictedPath(box.dir, BASE_TOOLS) });
    expect([skipped.code, skipped.stderr]).toEqual([77, expect.stringMatching(/neither dpkg nor rpm/)]);
    const rule = ruleOf(integrity, 'package-file-modified');
    expect(ruleMatches(rule, ['verify flags=??5?????? conf=no path=/usr/bin/ls', 'verify flags=??5?????? conf=yes path=/etc/x', 'verify flags=missing.. conf=no path=/usr/share/doc/x'])
      .map((m) => m.path)).toEqual(['/usr/bin/ls']);
  });
});

describe('sre-health collectors', () => {
  const sre = loadBuiltin('sre-health');

  it('disk reports the filesystem of the given paths, and the rule threshold reads used_pct', async () => {
    const r = await runCollector(sre, 'disk', { disk_paths: [box.dir] });
    expect(r.code).toBe(0);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(/^used_pct=\d+ size_kb=\d+ avail_kb=\d+ fs=\S+ mount=\/\S*$/);
    expect(ruleMatches(ruleOf(sre, 'disk-full'), r.lines)).toHaveLength(1);
  });

  it('oom_kills reads kills inside the window from dmesg (padded and unpadded stamps) when there is no journal, or is skipped with a reason', async () => {
    // The machine's age comes from a file the test writes, not from this machine's /proc/uptime.
    const uptime = (seconds: string): string => {
      const file = join(box.dir, `uptime-${seconds}`);
      writeFileSync(file, `${seconds} 100.00\n`);
      return file;
    };
    const dmesg = [
      'echo "[    5.000000] Out of memory: Killed process 111 (old) total-vm:1kB"',
      'echo "no stamp: Out of memory: Killed process 222 (nostamp) total-vm:1kB"',
      'echo "[ 9000.500000] Out of memory: Killed process 4242 (java) total-vm:123kB, anon-rss:1kB"',
      'echo "[ 9000.600000] oom_reaper: reaped process 4242 (java)"',
      'echo "[12345.678901] Out of memory: Killed process 4343 (python3) total-vm:9kB"',
    ].join('\n');
    const path = restrictedPath(box.dir, BASE_TOOLS, { dmesg });
    // Up 12,400 s: the window of 60 minutes starts at 8,800 s after boot; the kill at 5 s is outside it.
    const r = await runCollector(sre, 'oom_kills', { oom_window_minutes: 60 }, { PATH: path, OKESU_UPTIME_FILE: uptime('12400.00') });
    expect(r.code).toBe(0);
    expect(r.lines).toEqual(['oom pid=4242 comm=java when=boot+9000.500000', 'oom pid=4343 comm=python3 when=boot+12345.678901']);
    expect(ruleMatches(ruleOf(sre, 'oom-kill'), r.lines)[0]).toMatchObject({ pid: '4242', comm: 'java', when: 'boot+9000.500000' });
    // A machine booted 30 s ago: the kill at 5 s is inside the window.
    const young = await runCollector(sre, 'oom_kills', { oom_window_minutes: 60 }, { PATH: path, OKESU_UPTIME_FILE: uptime('30.00') });
    expect(young.lines).toContain('oom pid=111 comm=old when=boot+5.000000');
    const off = await runCollector(sre, 'oom_kills', { oom_window_minutes: 0 });
    expect([off.code, off.stderr]).toEqual([77, expect.stringMatching(/oom_window_minutes is 0/)]);
    const none = await runCollector(sre, 'oom_kills', {}, { PATH: restrictedPath(box.dir, BASE_TOOLS) });
    expect([none.code, none.stderr]).toEqual([77, expect.stringMatching(/kernel log is not readable/)]);
  });

  it('tls_certs is skipped with a reason with no endpoints or no openssl; failed_units names why it is skipped', async () => {
    const empty = await runCollector(sre, 'tls_certs');
    expect([empty.code, empty.stderr]).toEqual([77, expect.stringMatching(/no tls_endpoints configured/)]);
    const noOpenssl = await runCollector(sre, 'tls_certs', { tls_endpoints: ['127.0.0.1:9'] }, { PATH: restrictedPath(box.dir, BASE_TOOLS) });
    expect([noOpenssl.code, noOpenssl.stderr]).toEqual([77, expect.stringMatching(/openssl is not installed/)]);
    const units = await runCollector(sre, 'failed_units', {}, { PATH: restrictedPath(box.dir, BASE_TOOLS) });
    expect([units.code, units.stderr]).toEqual([77, expect.stringMatching(/systemctl is not installed/)]);
    const rule = ruleOf(sre, 'failed-unit');
    expect(ruleMatches(rule, ['failed unit=nginx.service load=loaded active=failed sub=failed description=A high performance web server'])[0])
      .toMatchObject({ unit: 'nginx.service', sub: 'failed' });
  });

  it('load and memory print one parsable line each', async () => {
    const load = await runCollector(sre, 'load');
    expect(ruleMatches(ruleOf(sre, 'load-high'), load.lines)).toHaveLength(1);
    const memory = await runCollector(sre, 'memory');
    expect(ruleMatches(ruleOf(sre, 'memory-low'), memory.lines).map((m) => m.scope)).toContain('host');
  });
});

describe('edr-investigator: what its bash may run', () => {
  const inv = loadBuiltin('edr-investigator');
  const allowed = ['ps -ef', 'ps -eo pid,ppid,args --forest', 'ss -tanp', 'ls -la /tmp', 'stat /usr/bin/ls', 'sha256sum /usr/bin/ls',
    'cat /proc/1/status', 'cat /proc/net/tcp', 'journalctl -u ssh --since -1h --no-pager', 'systemctl status nginx', 'lsof -p 1',
    'ip addr show', 'ip -4 route', 'ip link show eth0', 'dpkg -S /usr/bin/ls', 'systemctl status ssh', 'crontab -l -u root', 'readlink /proc/1/exe'];
  const denied = ['rm -rf /', 'ps; rm -rf /', 'ps | sh', 'ls $(reboot)', 'ls `reboot`', 'ls > /etc/passwd', 'cat /etc/shadow',
    'cat /proc/1/environ', 'curl http://203.0.113.9/x', 'wget -qO- http://x', 'kill -9 1', 'chmod 777 /etc', 'python3 -c "print(1)"',
    'ss -K dst 203.0.113.9', 'ss -tK', 'journalctl -f', 'journalctl -fu sshd', 'journalctl --vacuum-time=1s', 'systemctl stop sshd',
    'ip link set eth0 down', 'ip route add default via 192.0.2.1', 'find / -delete', 'crontab -l -r', 'file -C -m /tmp/x', 'lastlog -C -u root', 'ps\nrm -rf /', 'bash -c id', 'lsof -r 1'];

  it.each(allowed)('allows %j', (command) => {
    expect(checkToolCall(inv, EMPTY_POLICY, 'bash', command)).toBeUndefined();
  });

  it.each(denied)('denies %j with a reason', (command) => {
    const denial = checkToolCall(inv, EMPTY_POLICY, 'bash', command);
    expect(denial?.by).toBe('rbac');
    expect(denial?.reason.length).toBeGreaterThan(10);
  });

  it('denies reading password hashes and private keys, and allows ordinary files', () => {
    expect(checkToolCall(inv, EMPTY_POLICY, 'read_file', '/etc/shadow')?.by).toBe('rbac');
    expect(checkToolCall(inv, EMPTY_POLICY, 'read_file', '/home/alice/.ssh/id_ed25519')?.by).toBe('rbac');
    expect(checkToolCall(inv, EMPTY_POLICY, 'read_file', '/proc/1/environ')?.by).toBe('rbac');
    expect(checkToolCall(inv, EMPTY_POLICY, 'read_file', '/etc/passwd')).toBeUndefined();
  });
});
