import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CollectorSpec } from '../../../src/specs/agent-spec.js';
import { EMPTY_POLICY } from '../../../src/specs/policy-spec.js';
import { inputsToEnv } from '../../../daimon/collectors/input-env.js';
import { runCollectors } from '../../../daimon/collectors/run-collectors.js';
import type { RunCollectorsOptions } from '../../../daimon/collectors/run-collectors.js';
import { isGone, waitFor } from '../run-helpers.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'okesu-collectors-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const collector = (name: string, command: string, fields: Partial<CollectorSpec> = {}): CollectorSpec => ({
  name, command, timeoutMs: 20_000, optional: false, emitOutput: false, ...fields,
});
const options = (extra: Partial<RunCollectorsOptions> = {}): RunCollectorsOptions => ({
  env: { PATH: process.env.PATH ?? '', D: dir }, policy: EMPTY_POLICY, signal: new AbortController().signal, killGraceMs: 500, ...extra,
});
const pidIn = (name: string): number => Number(readFileSync(join(dir, name), 'utf8').trim());

describe('runCollectors', () => {
  it('runs collectors in parallel: each waits for the other one\'s marker', async () => {
    const waitOther = (me: string, other: string) => `touch "$D/${me}"; while [ ! -e "$D/${other}" ]; do sleep 0.01; done; echo ${me} done`;
    const results = await runCollectors([collector('a', waitOther('a', 'b')), collector('b', waitOther('b', 'a'))], options());
    expect(results.map((r) => [r.name, r.output, r.exitCode, r.error])).toEqual([
      ['a', 'a done\n', 0, undefined],
      ['b', 'b done\n', 0, undefined],
    ]);
  });

  it('closes stdin and passes the environment', async () => {
    const [r] = await runCollectors([collector('c', 'cat; printf "%s" "$D"')], options());
    expect(r).toMatchObject({ output: dir, exitCode: 0, skipped: false, truncated: false });
  });

  it('hands inputs over through the environment only, so shell syntax in a value is inert', async () => {
    const value = `$(touch "${dir}/pwned") \`touch "${dir}/pwned2"\` "; touch ${dir}/pwned3`;
    const env = { ...options().env, ...inputsToEnv({ target: value, paths: ['/a', '/b'] }) };
    const [r] = await runCollectors([collector('c', 'printf "%s|%s" "$OKESU_INPUT_TARGET" "$OKESU_INPUT_PATHS"')], options({ env }));
    expect(r?.output).toBe(`${value}|/a\n/b`);
    expect(['pwned', 'pwned2', 'pwned3'].filter((f) => existsSync(join(dir, f)))).toEqual([]);
  });

  it('times out: the whole process group dies, grandchildren included', async () => {
    const [r] = await runCollectors([collector('slow', 'sleep 30 & echo $! > "$D/pid"; wait', { timeoutMs: 1000 })], options());
    expect(r?.error).toBe('timed out after 1s');
    expect(r?.skipped).toBe(false);
    await waitFor(() => isGone(pidIn('pid')), 10_000, 'the grandchild sleep to die');
  });

  it('escalates to SIGKILL for a group that ignores SIGTERM', async () => {
    const [r] = await runCollectors([collector('stubborn', 'trap "" TERM; sleep 30 & echo $! > "$D/pid"; wait', { timeoutMs: 300 })], options({ killGraceMs: 200 }));
    expect(r?.error).toBe('timed out after 300ms');
    await waitFor(() => isGone(pidIn('pid')), 10_000, 'the stubborn sleep to die');
  });

  it('stops what a collector left running after it exited', async () => {
    const [r] = await runCollectors([collector('bg', 'sleep 30 & echo $! > "$D/pid"; echo started')], options());
    expect(r).toMatchObject({ output: 'started\n', exitCode: 0 });
    expect(r?.error).toBeUndefined();
    await waitFor(() => isGone(pidIn('pid')), 10_000, 'the background sleep to die');
  });

  it('caps stdout, marks it truncated, drops the cut line, and keeps draining so the child finishes', async () => {
    const [r] = await runCollectors([collector('big', 'yes 0123456789 | head -c 5000000; echo end >&2')], options({ maxOutputBytes: 1000 }));
    expect(r).toMatchObject({ exitCode: 0, truncated: true });
    expect(r?.error).toBeUndefined();
    expect(r?.output.length).toBeLessThanOrEqual(1000);
    expect(r?.output.split('\n').slice(0, -1).every((l) => l === '0123456789')).toBe(true);
    expect(r?.output.endsWith('\n')).toBe(true);
  });

  it.each([
    ['exit 77 with its reason', 'echo noise >&2; echo "ss is not installed" >&2; exit 77', 'ss is not installed'],
    ['exit 77 without a reason', 'exit 77', 'exit code 77: nothing to collect on this host'],
    ['a missing command', 'okesu-no-such-command-xyz --flag', /^command not found: .*okesu-no-such-command-xyz.*not found/],
  ])('skips on %s', async (_name, command, reason) => {
    const [r] = await runCollectors([collector('s', command)], options());
    expect(r?.skipped).toBe(true);
    expect(r?.error).toBeUndefined();
    expect(r?.skipReason).toMatch(reason);
  });

  it('reports a non-zero exit with the last stderr line', async () => {
    const [r] = await runCollectors([collector('f', 'echo partial; echo first >&2; printf "last words\\n\\n" >&2; exit 3', { optional: true })], options());
    expect(r).toMatchObject({ output: 'partial\n', exitCode: 3, skipped: false, error: 'exit code 3: last words' });
  });

  it('does not run a collector the host policy denies, and runs the others', async () => {
    const checkCommand = (command: string) => (command.includes('denied-marker') ? { reason: 'no marker files here' } : undefined);
    const results = await runCollectors(
      [collector('bad', 'touch "$D/denied-marker"'), collector('good', 'touch "$D/good-marker"; echo ok')],
      options({ checkCommand }),
    );
    expect(results[0]).toMatchObject({ name: 'bad', output: '', exitCode: null, error: 'denied by host policy: no marker files here' });
    expect(results[1]).toMatchObject({ name: 'good', output: 'ok\n', exitCode: 0 });
    expect(existsSync(join(dir, 'good-marker'))).toBe(true);
    expect(existsSync(join(dir, 'denied-marker'))).toBe(false);
  });

  it('abort kills every group and resolves promptly', async () => {
    const controller = new AbortController();
    const sleeper = (n: string) => collector(n, `sleep 30 & echo $! > "$D/${n}.pid"; wait`);
    const running = runCollectors([sleeper('x'), sleeper('y')], options({ signal: controller.signal }));
    await waitFor(() => existsSync(join(dir, 'x.pid')) && existsSync(join(dir, 'y.pid')), 10_000, 'both collectors to start');
    await waitFor(() => readFileSync(join(dir, 'x.pid'), 'utf8').endsWith('\n') && readFileSync(join(dir, 'y.pid'), 'utf8').endsWith('\n'));
    controller.abort();
    const results = await running;
    expect(results.map((r) => r.error)).toEqual(['aborted', 'aborted']);
    await waitFor(() => isGone(pidIn('x.pid')) && isGone(pidIn('y.pid')), 10_000, 'the sleeps to die');
  });

  it('does not start anything once aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const [r] = await runCollectors([collector('late', 'touch "$D/late"')], options({ signal: controller.signal }));
    expect(r?.error).toBe('aborted before start');
    expect(existsSync(join(dir, 'late'))).toBe(false);
  });

  it('resolves with nothing for no collectors', async () => {
    expect(await runCollectors([], options())).toEqual([]);
  });
});
