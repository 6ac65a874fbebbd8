import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { AGENT_CAPABILITIES } from '../../src/lifecycle/units/systemd-hardening.js';
import { systemdUnit, systemdWord } from '../../src/lifecycle/units/systemd-unit.js';
import { launchdPlist } from '../../src/lifecycle/units/launchd-plist.js';
import { testDeps } from '../cli/helpers.js';

/** A unit file as sections of key → values (a key may repeat); comments and blank lines dropped; anything else fails. */
function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const sections: Record<string, Record<string, string[]>> = {};
  let current: Record<string, string[]> | undefined;
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([A-Za-z]+)\]$/.exec(line);
    if (header) {
      current = sections[header[1] as string] = {};
      continue;
    }
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!kv || !current) throw new Error(`line ${i + 1} is neither a section, a key=value nor a comment: ${line}`);
    (current[kv[1] as string] ??= []).push(kv[2] as string);
  }
  return sections;
}

const base = { executable: '/usr/local/bin/okesu', stateDir: '/var/lib/okesu', user: 'okesu', daemonArgs: ['--enable', 'edr,sre-health', '--label', 'env=prod'], version: '1.2.3' };
const one = (s: Record<string, string[]> | undefined, key: string): string | undefined => s?.[key]?.[0];

describe('the systemd unit', () => {
  it('runs the daimon under okesu supervise as its own user, hardened, with the relaxations the agents need', () => {
    const unit = parseUnit(systemdUnit(base));
    expect(Object.keys(unit)).toEqual(['Unit', 'Service', 'Install']);
    const s = unit.Service;
    expect(one(s, 'ExecStart')).toBe('/usr/local/bin/okesu supervise --state /var/lib/okesu -- daemon --state /var/lib/okesu --enable edr,sre-health --label env=prod');
    expect(one(s, 'User')).toBe('okesu');
    expect(one(s, 'Restart')).toBe('always');
    expect(one(s, 'KillMode')).toBe('mixed');
    expect(one(s, 'Delegate')).toBe('yes');
    expect(one(s, 'ProtectSystem')).toBe('strict');
    expect(one(s, 'ReadWritePaths')).toBe('/var/lib/okesu');
    expect(one(s, 'ProtectHome')).toBe('read-only');
    expect(one(s, 'NoNewPrivileges')).toBe('yes');
    expect(one(s, 'PrivateTmp')).toBe('no');
    expect(one(s, 'ProtectControlGroups')).toBe('no');
    expect(one(s, 'Environment')).toBe('TMPDIR=/var/lib/okesu/tmp OKESU_SEA_DIR=/var/lib/okesu/sea');
    expect(one(s, 'AmbientCapabilities')?.split(' ')).toEqual([...AGENT_CAPABILITIES]);
    expect(one(s, 'CapabilityBoundingSet')?.split(' ')).toEqual([...AGENT_CAPABILITIES]);
    expect(one(unit.Install, 'WantedBy')).toBe('multi-user.target');
    // Every key appears once: a repeated hardening key would silently win or add.
    for (const [key, values] of Object.entries(s ?? {})) expect(values, key).toHaveLength(1);
  });

  it('as root keeps the sandbox but has no user and no capability lists', () => {
    const s = parseUnit(systemdUnit({ ...base, user: 'root' })).Service;
    expect(s?.User).toBeUndefined();
    expect(s?.AmbientCapabilities).toBeUndefined();
    expect(one(s, 'ProtectSystem')).toBe('strict');
  });

  it('quotes words so systemd passes them on as written, and refuses what a unit cannot carry', () => {
    expect(systemdWord('plain')).toBe('plain');
    expect(systemdWord('a b')).toBe('"a b"');
    expect(systemdWord('100%')).toBe('100%%');
    expect(systemdWord('$HOME')).toBe('$$HOME');
    expect(systemdWord('say "hi"')).toBe('"say \\"hi\\""');
    expect(systemdWord('')).toBe('""');
    expect(() => systemdWord('a\nb')).toThrow(/control characters/);
    expect(() => systemdUnit({ ...base, stateDir: '/var/lib/ok esu' })).toThrow(/without spaces/);
    expect(() => systemdUnit({ ...base, daemonArgs: ['--token', 'okj_x'] })).toThrow(/join token/);
    expect(() => systemdUnit({ ...base, user: 'okesu\nExecStartPre=/bin/evil' })).toThrow(/account name/);
  });

  // systemd-analyze comes with Debian's systemd package (scripts/install-test-deps.sh); it checks the file, nothing runs.
  it('passes systemd-analyze verify, which does flag a broken unit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'okesu-unit-'));
    // verify checks that ExecStart's program exists and is executable.
    const exe = join(dir, 'okesu');
    writeFileSync(exe, '#!/bin/sh\n');
    chmodSync(exe, 0o755);
    const verify = (name: string, text: string): string => {
      writeFileSync(join(dir, name), text);
      const r = spawnSync('systemd-analyze', ['verify', join(dir, name)], { encoding: 'utf8' });
      // It exits 0 on unknown keys and bad values, only printing them: any line about our file is a failure.
      return `${r.status === 0 ? '' : `exit ${r.status}\n`}${r.stderr.split('\n').filter((l) => l.includes(name)).join('\n')}`;
    };
    expect(verify('okesu.service', systemdUnit({ ...base, executable: exe, stateDir: dir }))).toBe('');
    expect(verify('okesu-root.service', systemdUnit({ ...base, executable: exe, stateDir: dir, user: 'root' }))).toBe('');
    expect(verify('broken.service', systemdUnit({ ...base, executable: exe, stateDir: dir }).replace('ProtectSystem=strict', 'ProtectSystem=bogus\nNoSuchKey=1'))).toMatch(/NoSuchKey|protect system/i);
  });

  it('is what okesu daemon --print-unit prints (state /var/lib/okesu unless --state, flags passed on, never a token)', async () => {
    const deps = testDeps();
    expect(await runCli(['daemon', '--print-unit', '--enable', 'edr', '--label', 'env=prod'], deps)).toBe(0);
    const s = parseUnit(deps.stdout.text()).Service;
    expect(one(s, 'ExecStart')).toBe('/usr/local/bin/okesu supervise --state /var/lib/okesu -- daemon --state /var/lib/okesu --label env=prod --enable edr');
    const root = testDeps();
    expect(await runCli(['daemon', '--print-unit', '--state', '/srv/okesu', '--user', 'root'], root)).toBe(0);
    expect(one(parseUnit(root.stdout.text()).Service, 'ReadWritePaths')).toBe('/srv/okesu');
    const token = testDeps();
    expect(await runCli(['daemon', '--print-unit', '--token', 'okj_a_b_c'], token)).toBe(1);
    expect(token.stdout.text()).toBe('');
  });
});

describe('the launchd plist (verified on Linux only: printed and parsed, never loaded)', () => {
  const text = launchdPlist({ ...base, stateDir: '/var/lib/ok<esu>&', daemonArgs: ['--label', 'team=a&b'] });

  it('parses as a property list with the supervisor command line, its user and keep-alive', () => {
    const python = spawnSync('python3', ['-c', 'import json,plistlib,sys; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))'], { input: text, encoding: 'utf8' });
    if (python.error) {
      // No python here: check the structure we rely on by hand instead of passing silently.
      expect(text).toMatch(/<key>ProgramArguments<\/key>\s*<array>\s*<string>\/usr\/local\/bin\/okesu<\/string>\s*<string>supervise<\/string>/);
      expect(text).toContain('<string>/var/lib/ok&lt;esu&gt;&amp;</string>');
      return;
    }
    expect(python.status, python.stderr).toBe(0);
    const plist = JSON.parse(python.stdout) as Record<string, unknown>;
    expect(plist.Label).toBe('dev.okesu.daimon');
    expect(plist.ProgramArguments).toEqual(['/usr/local/bin/okesu', 'supervise', '--state', '/var/lib/ok<esu>&', '--', 'daemon', '--state', '/var/lib/ok<esu>&', '--label', 'team=a&b']);
    expect(plist.UserName).toBe('okesu');
    expect(plist.KeepAlive).toBe(true);
    expect(plist.RunAtLoad).toBe(true);
    expect(plist.StandardOutPath).toBe('/var/lib/ok<esu>&/daimon.log');
  });

  it('is what okesu daemon --print-unit --init launchd prints', async () => {
    const deps = testDeps();
    expect(await runCli(['daemon', '--print-unit', '--init', 'launchd'], deps)).toBe(0);
    expect(deps.stdout.text()).toContain('<key>KeepAlive</key>');
  });
});
