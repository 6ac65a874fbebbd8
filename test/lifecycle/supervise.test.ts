import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSupervisor, type Supervisor, type SupervisorOptions } from '../../src/lifecycle/supervise/supervisor.js';
import { captureLog, testState, waitFor, type TestState } from './supervise-harness.js';

// Real child processes: each "version" is a small sh script in STATE/bin (supervise-harness.ts).

const running: Array<{ sup: Supervisor; done: Promise<number> }> = [];

afterEach(async () => {
  for (const r of running.splice(0)) {
    r.sup.stop('SIGTERM');
    await r.done;
  }
});

function supervise(state: TestState, over: Partial<SupervisorOptions> = {}) {
  const { log, lines } = captureLog();
  const sup = createSupervisor(
    {
      stateDir: state.dir, args: ['daemon', '--state', state.dir], self: () => ({ command: '/bin/sh', args: [state.version('0.0.0-self', { kind: 'hang' })] }),
      fatalExitCode: 78, backoffMinMs: 50, backoffMaxMs: 400, stopGraceMs: 300, healthPollMs: 25, env: { PATH: process.env.PATH },
      ...over,
    },
    { log },
  );
  const done = sup.run();
  const entry = { sup, done };
  running.push(entry);
  return {
    sup, done, lines,
    async stop(): Promise<number> {
      sup.stop('SIGTERM');
      running.splice(running.indexOf(entry), 1);
      return done;
    },
  };
}

describe('okesu supervise: running the daimon', () => {
  it('starts bin/current with the arguments after -- and its pid in OKESU_SUPERVISOR_PID; SIGTERM is forwarded and ends it', async () => {
    const state = testState();
    state.version('1.0.0', { kind: 'hang' });
    state.link('current', '1.0.0');
    const s = supervise(state);
    const start = await waitFor('the first start', () => state.starts()[0]);
    expect(start).toMatchObject({ version: '1.0.0', supervisorPid: String(process.pid), args: `daemon --state ${state.dir}` });
    expect(await s.stop()).toBe(0);
    expect(() => process.kill(start.pid, 0)).toThrow(); // the child is gone
    expect(state.starts()).toHaveLength(1);
  });

  it('starts itself when there is no bin/current', async () => {
    const state = testState();
    const s = supervise(state);
    const start = await waitFor('the first start', () => state.starts()[0]);
    expect(start?.version).toBe('0.0.0-self');
    await s.stop();
  });

  it('restarts at once after exit 75, with a growing pause after a crash, and not at all after the fatal code', async () => {
    const state = testState();
    state.version('1.0.0', { kind: 'hang' });
    state.link('current', '1.0.0');
    const s = supervise(state, { backoffMinMs: 20_000, backoffMaxMs: 20_000 });
    const first = await waitFor('the first start', () => state.starts()[0]);
    const began = Date.now();
    await waitFor('a run of over a second', () => Date.now() - began > 1100);
    process.kill(first.pid, 'SIGUSR1'); // the script exits 75
    await waitFor('a restart at once (the backoff is 20 s)', () => state.starts().length === 2, 5000);
    await s.stop();

    // 75 at once with nothing staged: a crash loop, not an upgrade — it gets the pause.
    const spin = testState();
    spin.version('1.0.0', { kind: 'exit', code: 75 });
    spin.link('current', '1.0.0');
    const sp = supervise(spin, { backoffMinMs: 20_000, backoffMaxMs: 20_000 });
    await waitFor('the pause', () => sp.lines().some((l) => l.msg === 'daimon exited; restarting after a pause' && l.code === 75));
    expect(spin.starts()).toHaveLength(1);
    await sp.stop();

    const crash = testState();
    crash.version('1.0.0', { kind: 'exit', code: 1 });
    crash.link('current', '1.0.0');
    const c = supervise(crash, { backoffMinMs: 100, backoffMaxMs: 400 });
    await waitFor('five starts', () => crash.starts().length >= 5, 8000);
    await c.stop();
    const pauses = c.lines().filter((l) => l.msg === 'daimon exited; restarting after a pause').map((l) => l.restart_in_ms);
    expect(pauses.slice(0, 4)).toEqual([100, 200, 400, 400]);

    const fatal = testState();
    fatal.version('1.0.0', { kind: 'exit', code: 78 });
    fatal.link('current', '1.0.0');
    const f = supervise(fatal);
    expect(await f.done).toBe(78);
    expect(fatal.starts()).toHaveLength(1);
  });

  it('a SIGTERM during the pause before a restart ends the supervisor at once', async () => {
    const state = testState();
    state.version('1.0.0', { kind: 'exit', code: 2 });
    state.link('current', '1.0.0');
    const s = supervise(state, { backoffMinMs: 30_000, backoffMaxMs: 30_000 });
    await waitFor('the crash', () => s.lines().some((l) => l.msg === 'daimon exited; restarting after a pause'));
    const began = Date.now();
    expect(await s.stop()).toBe(0);
    expect(Date.now() - began).toBeLessThan(5000);
  });
});

describe('okesu supervise: upgrade trials', () => {
  const trial = (over: { health_timeout_ms?: number; swapped_at?: number; rollback_to?: string } = {}) => ({
    rollout_id: 'ro_0123456789abcdef', from_version: '1.0.0', to_version: '2.0.0', health_timeout_ms: 5000, swapped_at: Date.now(), ...over,
  });

  /** Old version 1.0.0 as previous, `next` as current, a trial pending. */
  function staged(next: Parameters<TestState['version']>[1], over?: Parameters<typeof trial>[0]): TestState {
    const state = testState();
    state.version('1.0.0', { kind: 'healthy' });
    state.version('2.0.0', next);
    state.link('previous', '1.0.0');
    state.link('current', '2.0.0');
    state.pending(trial(over));
    return state;
  }

  it('a new version that writes health.json passes: result healthy, pending removed, it keeps running', async () => {
    const state = staged({ kind: 'healthy' });
    const s = supervise(state);
    const result = await waitFor('the result', () => state.result());
    expect(result).toMatchObject({ rollout_id: 'ro_0123456789abcdef', version: '2.0.0', outcome: 'healthy' });
    expect(existsSync(state.paths.pending)).toBe(false);
    expect(state.currentTarget()).toBe('okesu-2.0.0');
    expect(existsSync(state.paths.previous)).toBe(true); // kept for the next rollback
    expect(state.starts().map((x) => x.version)).toEqual(['2.0.0']);
    await s.stop();
  });

  it('a new version that exits at start is rolled back: previous restored, reason recorded, the old version started', async () => {
    const state = staged({ kind: 'exit', code: 3 });
    const s = supervise(state, { backoffMinMs: 20_000 });
    await waitFor('the old version to start again', () => state.starts().length === 2);
    expect(state.starts().map((x) => x.version)).toEqual(['2.0.0', '1.0.0']);
    expect(state.result()).toMatchObject({ version: '2.0.0', outcome: 'rolled_back', reason: 'exited with code 3 before its first heartbeat' });
    expect(state.currentTarget()).toBe('okesu-1.0.0');
    expect(existsSync(state.paths.previous)).toBe(false);
    expect(existsSync(state.paths.pending)).toBe(false);
    await s.stop();
  });

  it('a new version that never heartbeats is stopped at the deadline and rolled back; one ignoring SIGTERM is killed', async () => {
    for (const kind of ['hang', 'stubborn'] as const) {
      const state = staged({ kind }, { health_timeout_ms: 800 });
      const s = supervise(state);
      const result = await waitFor('the rollback', () => state.result());
      expect(result).toMatchObject({ outcome: 'rolled_back', reason: 'no heartbeat within 0.8 s' });
      const [tried] = state.starts();
      await waitFor('the trial child to be gone', () => !alive(tried!.pid));
      await waitFor('the old version to start', () => state.starts()[1]?.version === '1.0.0');
      expect(state.currentTarget()).toBe('okesu-1.0.0');
      await s.stop();
    }
  });

  it('health.json of the new version from before the swap, or of another version, does not pass the trial', async () => {
    const state = staged({ kind: 'hang' }, { health_timeout_ms: 600 });
    writeFileSync(state.paths.health, JSON.stringify({ version: '2.0.0', pid: process.pid, hostname: 'x', at: Date.now() - 60_000 }));
    const s = supervise(state);
    expect(await waitFor('the rollback', () => state.result())).toMatchObject({ outcome: 'rolled_back' });
    await s.stop();
  });

  it('a supervisor restarted mid-trial keeps judging it against swapped_at, and rolls back at once when the deadline passed', async () => {
    const state = staged({ kind: 'hang' }, { health_timeout_ms: 1500 });
    const first = supervise(state);
    await waitFor('the trial child', () => state.starts().length === 1);
    expect(await first.stop()).toBe(0);
    expect(existsSync(state.paths.pending)).toBe(true); // a stop is not a verdict
    const second = supervise(state);
    const result = await waitFor('the rollback', () => state.result());
    expect(result).toMatchObject({ outcome: 'rolled_back', reason: 'no heartbeat within 1.5 s' });
    expect(state.starts().map((x) => x.version)).toEqual(['2.0.0', '2.0.0', '1.0.0'].slice(0, state.starts().length));
    await waitFor('the old version', () => state.starts().at(-1)?.version === '1.0.0');
    await second.stop();

    const late = staged({ kind: 'hang' }, { swapped_at: Date.now() - 120_000, health_timeout_ms: 60_000 });
    const l = supervise(late);
    await waitFor('the old version', () => late.starts().length === 1);
    expect(late.starts()[0]?.version).toBe('1.0.0'); // the failed version is not started again
    expect(late.result()).toMatchObject({ outcome: 'rolled_back', reason: 'no heartbeat within 60 s' });
    await l.stop();
  });

  it('a trial whose swap never happened (the daimon was killed after pending.json) is voided: the old version runs on', async () => {
    const state = testState();
    state.version('1.0.0', { kind: 'hang' });
    state.version('2.0.0', { kind: 'exit', code: 3 });
    state.version('0.9.0', { kind: 'hang' });
    state.link('previous', '0.9.0'); // left by an earlier upgrade: must not be restored
    state.link('current', '1.0.0');
    state.pending(trial());
    const s = supervise(state);
    expect(await waitFor('the verdict', () => state.result())).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('interrupted before the swap') });
    await waitFor('the running version', () => state.starts()[0]);
    expect(state.starts().map((x) => x.version)).toEqual(['1.0.0']);
    expect(state.currentTarget()).toBe('okesu-1.0.0');
    expect(existsSync(state.paths.pending)).toBe(false);
    await s.stop();
  });

  it('a rollback the supervisor swapped but did not record (it was killed) is recorded by the next one, same version', async () => {
    const state = staged({ kind: 'exit', code: 3 }, { rollback_to: 'okesu-1.0.0' });
    state.link('current', '1.0.0'); // the swap back happened; result.json and the removal of pending.json did not
    const s = supervise(state);
    expect(await waitFor('the verdict', () => state.result())).toMatchObject({ outcome: 'rolled_back' });
    await waitFor('the restored version', () => state.starts()[0]);
    expect(state.starts().map((x) => x.version)).toEqual(['1.0.0']);
    expect(state.currentTarget()).toBe('okesu-1.0.0');
    await s.stop();
  });

  it('a daimon that staged an upgrade and exited 75 is replaced by the new version under trial', async () => {
    const state = testState();
    state.version('1.0.0', { kind: 'hang' });
    state.link('current', '1.0.0');
    const s = supervise(state);
    const old = await waitFor('the old version', () => state.starts()[0]);
    // What the daimon does (docs/lifecycle.md step 4): stage, pending, previous, swap, exit 75.
    state.version('2.0.0', { kind: 'healthy' });
    state.pending(trial());
    state.link('previous', '1.0.0');
    state.link('current', '2.0.0');
    process.kill(old.pid, 'SIGUSR1');
    expect(await waitFor('the result', () => state.result())).toMatchObject({ outcome: 'healthy', version: '2.0.0' });
    expect(state.starts().map((x) => x.version)).toEqual(['1.0.0', '2.0.0']);
    await s.stop();
  });

  it('stops a daimon of this state that a supervisor killed outright left running, then starts one', async () => {
    const state = testState();
    const script = state.version('1.0.0', { kind: 'hang' });
    state.link('current', '1.0.0');
    const leftover = spawn(script, ['daemon', '--state', state.dir], { env: { PATH: process.env.PATH, OKESU_SUPERVISOR_PID: '1' }, stdio: 'ignore', detached: true });
    const gone = new Promise((r) => leftover.once('exit', r));
    await waitFor('the leftover to run', () => state.starts().length === 1);
    writeFileSync(state.paths.daimonPid, `${leftover.pid}\n`);
    const s = supervise(state);
    await gone;
    await waitFor('the new daimon', () => state.starts().length === 2);
    expect(readFileSync(state.paths.daimonPid, 'utf8').trim()).toBe(String(state.starts()[1]?.pid));
    expect(s.lines().some((l) => l.pid === leftover.pid && String(l.msg).includes('still running'))).toBe(true);
    await s.stop();
    expect(existsSync(state.paths.daimonPid)).toBe(false);
  });

  it('leaves alone a pid in daimon.pid that is not a daimon of this state', async () => {
    const state = testState();
    state.version('1.0.0', { kind: 'hang' });
    state.link('current', '1.0.0');
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    writeFileSync(state.paths.daimonPid, `${other.pid}\n`);
    const s = supervise(state);
    await waitFor('the daimon', () => state.starts().length === 1);
    expect(other.exitCode).toBeNull();
    expect(alive(other.pid as number)).toBe(true);
    other.kill();
    await s.stop();
  });

  it('an unreadable pending.json is removed and logged, the current version started', async () => {
    const state = testState();
    state.version('1.0.0', { kind: 'hang' });
    state.link('current', '1.0.0');
    writeFileSync(join(state.paths.upgrade, 'pending.json'), '{"rollout_id": 7');
    const s = supervise(state);
    await waitFor('the start', () => state.starts().length === 1);
    expect(existsSync(state.paths.pending)).toBe(false);
    expect(s.lines().some((l) => l.level === 50 && String(l.problem).includes('not JSON'))).toBe(true);
    await s.stop();
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
