import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { daemonArgs } from '../../src/lifecycle/install/daemon-args.js';
import { planInstall } from '../../src/lifecycle/install/install-plan.js';
import type { InstallRequest } from '../../src/lifecycle/install/install-plan.js';
import { formatInstallOutcome, readInstallResult } from '../../src/protocol/install-outcome.js';
import { stepLine } from '../../src/lifecycle/install/plan-step.js';
import { planUninstall } from '../../src/lifecycle/install/uninstall-plan.js';
import { runCli } from '../../src/cli/program.js';
import { testDeps } from '../cli/helpers.js';

const log = pino({ level: 'silent' });
const JOIN = `okj_0123456789abcdef_${'ab'.repeat(32)}_${'A'.repeat(43)}`;

function request(over: Partial<InstallRequest> & { file: string; prefix: string }): InstallRequest {
  return {
    init: 'none', user: 'okesu', version: '1.2.3', register: { cp: 'https://cp.example:8443', token: JOIN, labels: {} }, daemonArgs: [], env: {}, waitMs: false,
    ...over, source: { file: over.file, command: over.file, args: [], single: true },
  };
}

function fixture(): { dir: string; file: string; prefix: string } {
  const dir = mkdtempSync(join(tmpdir(), 'okesu-plan-'));
  const file = join(dir, 'okesu-linux-x64');
  writeFileSync(file, 'build one');
  chmodSync(file, 0o755);
  return { dir, file, prefix: join(dir, 'root') };
}

const lines = (plan: { steps: Parameters<typeof stepLine>[0][] }): string[] => plan.steps.map((s) => stepLine(s, true));

describe('the install plan', () => {
  it('of a fresh host: every step, nothing written while planning', () => {
    const { file, prefix } = fixture();
    const plan = planInstall(request({ file, prefix }), log);
    expect(plan.outcome).toBe('installed');
    expect(lines(plan)).toEqual([
      expect.stringMatching(/^ {2}- would: copy .*okesu-linux-x64 to .*root\/usr\/local\/bin\/okesu \(0755, sha256 [0-9a-f]{12}\)$/),
      '  - skip: no user: with --init none the daimon runs as the user who installs it',
      `  - would: create ${prefix}/var/lib/okesu (0700)`,
      expect.stringMatching(/would: copy .* to .*\/var\/lib\/okesu\/bin\/okesu-1\.2\.3 \(0755\)$/),
      `  - would: point ${prefix}/var/lib/okesu/bin/current at okesu-1.2.3`,
      '  - would: register with https://cp.example:8443 (the join token stays in memory)',
      `  - would: write ${prefix}/var/lib/okesu/install.json`,
      expect.stringMatching(/would: start .*supervise --state .* -- daemon … detached/),
    ]);
    expect(existsSync(prefix)).toBe(false);
  });

  it('without a token and without an identity: refused before anything', () => {
    const { file, prefix } = fixture();
    expect(() => planInstall(request({ file, prefix, register: { labels: {} } }), log)).toThrow(/holds no identity yet: give --cp URL --token JOIN/);
  });

  it('unchanged when the same executable is installed, upgraded when another one is', () => {
    const { dir, file, prefix } = fixture();
    mkdirSync(join(prefix, 'usr/local/bin'), { recursive: true });
    writeFileSync(join(prefix, 'usr/local/bin/okesu'), 'build one');
    expect(planInstall(request({ file, prefix }), log).outcome).toBe('unchanged');
    const other = join(dir, 'other');
    writeFileSync(other, 'build two');
    const up = planInstall(request({ file: other, prefix, init: 'systemd' }), log);
    expect(up.outcome).toBe('upgraded');
    expect(lines(up)).toContain(`  - skip: user okesu: created only when installing to / (prefix ${prefix})`);
    expect(lines(up)).toContain(`  - would: write ${prefix}/etc/systemd/system/okesu.service`);
    expect(up.notes.join('\n')).toMatch(/systemctl daemon-reload && systemctl enable okesu && systemctl restart okesu/);
  });

  it('uninstall keeps the state unless purged', () => {
    const { prefix } = fixture();
    mkdirSync(join(prefix, 'var/lib/okesu'), { recursive: true });
    expect(lines(planUninstall({ prefix, purge: false }))).toContain(`  - skip: ${prefix}/var/lib/okesu kept (identity, spool): a reinstall is the same host; --purge removes it`);
    expect(lines(planUninstall({ prefix, purge: true }))).toContain(`  - would: remove ${prefix}/var/lib/okesu (identity, key, spool)`);
  });

  it('install --dry-run --bucket plans a registration through the bucket and passes the bucket to the daimon', async () => {
    const { prefix } = fixture();
    const deps = testDeps({ entry: fixture().file });
    const code = await runCli(['install', '--bucket', 's3://jobs/fleet', '--s3-endpoint', 'http://127.0.0.1:7480', '--token', JOIN, '--prefix', prefix, '--init', 'systemd', '--dry-run'], deps);
    expect(code, deps.stderr.text()).toBe(0);
    expect(deps.stdout.text()).toContain('would: register with s3://jobs/fleet (the join token stays in memory)');
    expect(deps.stdout.text()).not.toContain(JOIN);
    expect(existsSync(prefix)).toBe(false);
  });
});

describe('the daimon flags a unit carries', () => {
  it('reproduce the settings, leave defaults out, and read back as the daemon parses them', () => {
    expect(daemonArgs({})).toEqual([]);
    expect(daemonArgs({
      agents: ['/etc/okesu/agents'], label: { env: 'prod', team: 'a b' }, enable: ['edr', 'sre-health'],
      input: { 'sre-health': { disk_full_pct: 85, name: 'plain', quoted: '85', list: ['a'] } }, bucket: 's3://b/p', s3Endpoint: 'http://x:1', poll: 5000,
      containment: 'auto', logLevel: 'info', spoolMaxRecords: 10,
    })).toEqual([
      '--agents', '/etc/okesu/agents', '--label', 'env=prod', '--label', 'team=a b', '--enable', 'edr,sre-health',
      '--input', 'sre-health.disk_full_pct=85', '--input', 'sre-health.name=plain', '--input', 'sre-health.quoted="85"', '--input', 'sre-health.list=["a"]',
      '--spool-max-records', '10', '--bucket', 's3://b/p', '--s3-endpoint', 'http://x:1', '--poll', '5000ms',
    ]);
  });
});

describe('the outcome line', () => {
  it('round-trips and is found among other lines', () => {
    const r = { outcome: 'upgraded' as const, hostname: 'web-01', version: '1.2.3-rc.1', state_dir: '/var/lib/okesu' };
    expect(readInstallResult(formatInstallOutcome(r))).toEqual(r);
    expect(readInstallResult('okesu install: reinstalled host=x version=1 state=/')).toBeUndefined();
  });
});
