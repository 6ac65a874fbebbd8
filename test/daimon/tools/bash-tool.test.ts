import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isGone, waitFor } from '../run-helpers.js';
import { callTool, denyPolicy, tempDir, toolAgent } from './tool-helpers.js';

const bash = toolAgent(['bash']);
const open = denyPolicy();
let tmp: { dir: string; cleanup(): void };
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

const pidsIn = (file: string): number[] => readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);

describe('bash tool', () => {
  it('runs a command and reports its output and exit code', async () => {
    const { reply, result } = await callTool(bash, open, 'bash', { command: 'echo hello; exit 3' }, { cwd: tmp.dir });
    expect(reply).toEqual({ content: 'hello\n[exit code 3]', isError: false });
    expect(result).toMatchObject({ type: 'tool_result', output: 'hello\n[exit code 3]', is_error: false, truncated: false });
    expect(result?.duration_ms).toEqual(expect.any(Number));
  });

  it('combines stdout and stderr in the order they were written', async () => {
    const { reply } = await callTool(bash, open, 'bash', { command: 'echo one; echo two >&2; echo three; echo four >&2' });
    expect(reply.content).toBe('one\ntwo\nthree\nfour\n[exit code 0]');
  });

  it('says when the command does not exist', async () => {
    const { reply } = await callTool(bash, open, 'bash', { command: 'no-such-command-okesu' });
    expect(reply.content).toMatch(/not found\n\[exit code 127: command not found\]$/);
  });

  it('runs in the working directory with stdin empty', async () => {
    const { reply } = await callTool(bash, open, 'bash', { command: 'pwd; cat; echo "stdin done"' }, { cwd: tmp.dir });
    expect(reply.content).toBe(`${tmp.dir}\nstdin done\n[exit code 0]`);
  });

  it('passes the command as it is, quotes and dollars included', async () => {
    const { reply } = await callTool(bash, open, 'bash', { command: `printf '%s|%s|%s\\n' "it's" "$1" '$HOME'` });
    expect(reply.content).toBe("it's||$HOME\n[exit code 0]");
  });

  it('caps the output at 64 KB and says so', async () => {
    const { reply, result } = await callTool(bash, open, 'bash', { command: "head -c 200000 /dev/zero | tr '\\0' x; echo; echo tail" });
    const [body, ...notes] = reply.content.split('\n');
    expect(body).toBe('x'.repeat(65536));
    expect(notes).toEqual(['[output truncated at 65536 bytes; 200006 bytes in all]', '[exit code 0]']);
    expect(result).toMatchObject({ truncated: true, is_error: false });
  });

  it('never cuts a multi-byte character in half at the cap', async () => {
    // 65535 ASCII bytes and then a 3-byte character straddling the cap.
    const { reply } = await callTool(bash, open, 'bash', { command: "head -c 65535 /dev/zero | tr '\\0' a; printf '\\342\\202\\254 more'" });
    const body = reply.content.split('\n')[0] as string;
    expect(body).toBe('a'.repeat(65535));
    expect(reply.content).not.toContain('\uFFFD');
  });

  it('kills the command and its grandchildren on timeout', async () => {
    const pidFile = join(tmp.dir, 'pids');
    const started = Date.now();
    const { reply, result } = await callTool(bash, open, 'bash', {
      command: `sleep 1000 & echo $$ $! > ${pidFile}; echo started; wait`,
      timeout_s: 0.5,
    });
    expect(Date.now() - started).toBeLessThan(8000);
    expect(reply.isError).toBe(true);
    expect(reply.content).toBe('started\n[timed out after 0.5 s] process group stopped');
    expect(result).toMatchObject({ is_error: true });
    for (const pid of pidsIn(pidFile)) await waitFor(() => isGone(pid), 10_000, `process ${pid} to be gone`);
  });

  it('kills a child that ignores SIGTERM after the grace period', async () => {
    const pidFile = join(tmp.dir, 'pids');
    const { reply } = await callTool(bash, open, 'bash', {
      command: `trap '' TERM; sh -c "trap '' TERM; echo \\$\\$ > ${pidFile}; while :; do sleep 0.1; done"`,
      timeout_s: 0.3,
    });
    expect(reply.content).toContain('[timed out after 0.3 s]');
    for (const pid of pidsIn(pidFile)) await waitFor(() => isGone(pid), 10_000, `process ${pid} to be gone`);
  });

  it('uses the toolbox default timeout when the call names none', async () => {
    const { reply } = await callTool(bash, open, 'bash', { command: 'sleep 1000' }, { timeoutsMs: { bash: 300 } });
    expect(reply).toEqual({ content: '[timed out after 0.3 s] process group stopped', isError: true });
  });

  it('stops the command when the run is cancelled', async () => {
    const pidFile = join(tmp.dir, 'pids');
    const abort = new AbortController();
    const call = callTool(bash, open, 'bash', { command: `sleep 1000 & echo $$ $! > ${pidFile}; wait` }, { signal: abort.signal });
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').includes(' '), 10_000, 'the pid file');
    abort.abort();
    const { reply } = await call;
    expect(reply).toEqual({ content: '[cancelled] process group stopped', isError: true });
    for (const pid of pidsIn(pidFile)) await waitFor(() => isGone(pid), 10_000, `process ${pid} to be gone`);
  });

  it('does not start a command when the run is already cancelled', async () => {
    const marker = join(tmp.dir, 'ran');
    const abort = new AbortController();
    abort.abort();
    const { reply } = await callTool(bash, open, 'bash', { command: `touch ${marker}` }, { signal: abort.signal });
    expect(reply).toEqual({ content: '[cancelled]', isError: true });
    expect(existsSync(marker)).toBe(false);
  });

  it('stops background jobs the command leaves behind, and returns at once', async () => {
    const pidFile = join(tmp.dir, 'pids');
    const started = Date.now();
    const { reply } = await callTool(bash, open, 'bash', { command: `sleep 1000 & echo $! > ${pidFile}; echo done` });
    expect(reply.content).toBe('done\n[exit code 0]');
    expect(Date.now() - started).toBeLessThan(5000);
    for (const pid of pidsIn(pidFile)) await waitFor(() => isGone(pid), 10_000, `background job ${pid} to be gone`);
  });

  it('runs commands with the allowlisted environment only, never the daimon\'s own', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { ANTHROPIC_API_KEY: 'sk-ant-secret', GITHUB_TOKEN: 'ghp-secret', SOME_SETTING: 'not-allowlisted' });
    try {
      const { reply } = await callTool(bash, open, 'bash', { command: 'env | sort' });
      expect(reply.content).toMatch(/^PATH=/m);
      expect(reply.content).not.toMatch(/sk-ant-secret|ANTHROPIC|ghp-secret|SOME_SETTING/);
    } finally {
      for (const name of ['ANTHROPIC_API_KEY', 'GITHUB_TOKEN', 'SOME_SETTING']) if (!(name in saved)) delete process.env[name];
    }
  });

  it('runs commands with the environment the run gives it', async () => {
    const { reply } = await callTool(bash, open, 'bash', { command: 'printf "%s" "$ONLY_THIS"' }, { env: { PATH: '/usr/bin:/bin', ONLY_THIS: 'given' } });
    expect(reply.content).toBe('given\n[exit code 0]');
  });

  it.each([
    [{}, /command: Invalid input: expected string, received undefined/],
    [{ command: '' }, /command: must not be empty/],
    [{ command: 'ls', timeout_s: 601 }, /timeout_s: Too big: expected number to be <=600/],
    [{ command: 'ls', timeout_s: 0 }, /timeout_s: Too small/],
    [{ command: 'ls', shell: 'zsh' }, /input: Unrecognized key: "shell"/],
    ['ls', /input: Invalid input: expected object/],
  ])('refuses bad input %j without running anything', async (input, message) => {
    const { reply, events } = await callTool(bash, open, 'bash', input);
    expect(reply.isError).toBe(true);
    expect(reply.content).toMatch(/^invalid input for bash: /);
    expect(reply.content).toMatch(message);
    expect(events.map((e) => e.type)).toEqual(['tool_call', 'tool_result']);
  });
});
