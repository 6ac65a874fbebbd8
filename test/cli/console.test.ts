import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { defaultConsoleLog, loadConsole } from '../../src/cli/commands/console.js';
import { MAX_SIM_HOSTS, simHostname, simHostsArg, simLabels } from '../../src/cli/commands/demo-hosts.js';
import { testDeps, testPki } from './helpers.js';

describe('okesu console', () => {
  it('refuses to run without a terminal: exit 2, why on stderr, nothing on stdout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'okesu-console-'));
    const pki = await testPki();
    const config = join(dir, 'admin.yaml');
    writeFileSync(config, JSON.stringify({ cp: 'https://127.0.0.1:1', ca: pki.ca, token: `okt_${'a'.repeat(16)}_${'b'.repeat(64)}` }));
    const deps = testDeps();
    const code = await runCli(['console', '--config', config, '--log', join(dir, 'logs', 'console.log')], deps);
    expect(code, deps.stderr.text()).toBe(2);
    expect(deps.stderr.text()).toMatch(/^okesu console needs a terminal \((stdin|stdout) is not a TTY\); use okesu tail \/ okesu hosts --json in scripts\n$/);
    expect(deps.stdout.text()).toBe('');
    // The log file is private to the user, whatever the umask.
    expect(statSync(join(dir, 'logs', 'console.log')).mode & 0o777).toBe(0o600);
  });

  it('reports a missing client config like every operator command', async () => {
    const deps = testDeps();
    const code = await runCli(['console', '--config', '/nonexistent/admin.yaml'], deps);
    expect(code).toBe(1);
    expect(deps.stderr.text()).toContain('OKS_ERR_CONFIG');
  });

  it.each([
    [{ XDG_STATE_HOME: '/state' }, '/state/okesu/console.log'],
    [{}, '/home/u/.local/state/okesu/console.log'],
    [{ XDG_STATE_HOME: '' }, '/home/u/.local/state/okesu/console.log'],
  ])('logs by default under %j to %s', (env, path) => {
    expect(defaultConsoleLog(env, '/home/u')).toBe(path);
  });

  it('loads the console module from source when running from source', async () => {
    const mod = await loadConsole();
    expect(typeof mod.runConsole).toBe('function');
  });
});

describe('okesu demo --hosts', () => {
  it.each([['0', 0], ['1', 1], [String(MAX_SIM_HOSTS), MAX_SIM_HOSTS], [' 7 ', 7]])('takes %j as %d', (text, n) => {
    expect(simHostsArg(text)).toBe(n);
  });

  it.each(['-1', 'x', '1.5', String(MAX_SIM_HOSTS + 1), ''])('refuses %j', (text) => {
    expect(() => simHostsArg(text)).toThrow(/whole number from 0 to 500/);
  });

  it('names simulated hosts sim-001… and spreads them over three zones', () => {
    expect([1, 2, 3, 4, 120].map(simHostname)).toEqual(['sim-001', 'sim-002', 'sim-003', 'sim-004', 'sim-120']);
    expect([1, 2, 3, 4].map((i) => simLabels(i))).toEqual([
      { sim: 'true', zone: 'a' }, { sim: 'true', zone: 'b' }, { sim: 'true', zone: 'c' }, { sim: 'true', zone: 'a' },
    ]);
  });

  it('refuses more hosts than the maximum as a usage error', async () => {
    const deps = testDeps();
    const code = await runCli(['demo', '--hosts', '501'], deps);
    expect(code).toBe(2);
    expect(deps.stderr.text()).toMatch(/--hosts <n>.*whole number from 0 to 500/s);
  });
});
