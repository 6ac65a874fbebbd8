import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { testDeps } from '../cli/helpers.js';
import { testState, waitFor } from './supervise-harness.js';

describe('okesu supervise (the command)', () => {
  it('runs bin/current with the arguments after --, until SIGTERM (here: the abort signal)', async () => {
    const state = testState();
    state.version('1.0.0', { kind: 'hang' });
    state.link('current', '1.0.0');
    const abort = new AbortController();
    const deps = testDeps({ signal: abort.signal, env: { PATH: process.env.PATH } });
    const code = runCli(['supervise', '--state', state.dir, '--log-level', 'silent', '--', 'daemon', '--state', state.dir, '--label', 'a=b'], deps);
    const start = await waitFor('the start', () => state.starts()[0]);
    expect(start).toMatchObject({ version: '1.0.0', args: `daemon --state ${state.dir} --label a=b`, supervisorPid: String(process.pid) });
    abort.abort();
    expect(await code).toBe(0);
  });

  it('exits with the daimon\'s fatal code (78) without restarting it', async () => {
    const state = testState();
    state.version('1.0.0', { kind: 'exit', code: 78 });
    state.link('current', '1.0.0');
    const deps = testDeps({ env: { PATH: process.env.PATH } });
    expect(await runCli(['supervise', '--state', state.dir, '--log-level', 'silent', '--', 'daemon'], deps)).toBe(78);
    expect(state.starts()).toHaveLength(1);
  });

  it('needs --state and something to run', async () => {
    const deps = testDeps();
    expect(await runCli(['supervise', '--', 'daemon'], deps)).toBe(2);
    expect(deps.stderr.text()).toContain('--state');
    expect(await runCli(['supervise', '--state', '/tmp/x'], testDeps())).toBe(2);
  });
});
