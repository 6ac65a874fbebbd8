import { mkdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callTool, denyPolicy, tempDir, toolAgent } from './tool-helpers.js';

const searcher = toolAgent(['search']);
const open = denyPolicy();
let tmp: { dir: string; cleanup(): void };
let d: string;
beforeEach(() => {
  tmp = tempDir();
  d = tmp.dir;
  mkdirSync(join(d, 'logs', 'old'), { recursive: true });
  mkdirSync(join(d, 'secret'));
  writeFileSync(join(d, 'logs', 'auth.log'), 'ok login root\nFailed password for root\nok\nFAILED password for bob\n');
  writeFileSync(join(d, 'logs', 'old', 'auth.log.1'), 'Failed password for eve\r\n');
  writeFileSync(join(d, 'logs', 'notes.txt'), 'nothing Failed here? yes: Failed\n');
  writeFileSync(join(d, 'secret', 'shadow'), 'Failed password in a secret\n');
  writeFileSync(join(d, 'logs', 'core'), Buffer.from('Failed\0binary'));
});
afterEach(() => tmp.cleanup());

const lines = (content: string): string[] => content.split('\n');

describe('search tool', () => {
  it('prints path:line:text for every matching line, in name order', async () => {
    const { reply, result } = await callTool(searcher, open, 'search', { pattern: 'Failed password', path: join(d, 'logs') });
    expect(lines(reply.content)).toEqual([
      `${d}/logs/auth.log:2:Failed password for root`,
      `${d}/logs/old/auth.log.1:1:Failed password for eve`,
      '[1 binary file skipped]',
    ]);
    expect(result).toMatchObject({ is_error: false, truncated: false });
  });

  it('matches without case when asked', async () => {
    const { reply } = await callTool(searcher, open, 'search', { pattern: 'failed password', path: join(d, 'logs', 'auth.log'), ignore_case: true });
    expect(lines(reply.content)).toEqual([`${d}/logs/auth.log:2:Failed password for root`, `${d}/logs/auth.log:4:FAILED password for bob`]);
  });

  it.each([
    { glob: '*.txt', want: ['logs/notes.txt:1:nothing Failed here? yes: Failed'] },
    { glob: 'old/*', want: ['logs/old/auth.log.1:1:Failed password for eve'] },
    { glob: '*.log', want: ['logs/auth.log:2:Failed password for root'] },
  ])('filters files with glob $glob', async ({ glob, want }) => {
    const { reply } = await callTool(searcher, open, 'search', { pattern: '^(nothing )?Failed', path: join(d, 'logs'), glob });
    expect(lines(reply.content).filter((l) => !l.startsWith('['))).toEqual(want.map((w) => `${d}/${w}`));
  });

  it('leaves out denied paths and says how many entries it hid', async () => {
    const policy = denyPolicy({ paths: [join(d, 'secret')] });
    const { reply } = await callTool(searcher, policy, 'search', { pattern: 'secret', path: d });
    expect(lines(reply.content)).toEqual(['[no matches in 3 files]', '[1 entry hidden by policy]', '[1 binary file skipped]']);
  });

  it('does not follow symlinks while walking', async () => {
    symlinkSync(join(d, 'secret'), join(d, 'logs', 'to-secret'));
    const { reply } = await callTool(searcher, open, 'search', { pattern: 'secret', path: join(d, 'logs') });
    expect(reply.content).toBe('[no matches in 3 files]\n[1 binary file skipped]');
  });

  it('skips files over the size limit', async () => {
    const big = join(d, 'logs', 'huge.log');
    writeFileSync(big, '');
    truncateSync(big, 4 * 1024 * 1024 + 1);
    const { reply } = await callTool(searcher, open, 'search', { pattern: 'eve', path: join(d, 'logs') });
    expect(lines(reply.content)).toEqual([
      `${d}/logs/old/auth.log.1:1:Failed password for eve`,
      '[1 binary file skipped]',
      '[1 file over 4194304 bytes skipped]',
    ]);
  });

  it('caps matching lines per file and per call', async () => {
    writeFileSync(join(d, 'many.log'), Array.from({ length: 80 }, (_, i) => `hit ${i}`).join('\n'));
    writeFileSync(join(d, 'more.log'), Array.from({ length: 80 }, (_, i) => `hit ${i}`).join('\n'));
    const perFile = await callTool(searcher, open, 'search', { pattern: '^hit', path: join(d, 'many.log') });
    expect(lines(perFile.reply.content)).toHaveLength(51);
    expect(lines(perFile.reply.content).at(-1)).toBe('[1 file has more than 50 matching lines; the rest are not shown]');
    expect(perFile.result?.truncated).toBe(true);

    const perCall = await callTool(searcher, open, 'search', { pattern: '^hit', path: d, glob: '*.log', max_results: 60 });
    const out = lines(perCall.reply.content);
    expect(out.filter((l) => l.includes(':hit '))).toHaveLength(60);
    expect(out).toContain('[stopped at 60 matching lines]');
  });

  it('caps the output at 32 KB and cuts long lines', async () => {
    for (let f = 0; f < 4; f++) writeFileSync(join(d, `wide-${f}.log`), Array.from({ length: 50 }, () => `hit ${'w'.repeat(2000)}`).join('\n'));
    const { reply, result } = await callTool(searcher, open, 'search', { pattern: '^hit', path: d, max_results: 1000 });
    expect(Buffer.byteLength(reply.content)).toBeLessThanOrEqual(32 * 1024 + 200);
    expect(reply.content).toMatch(/\[output truncated at 32768 bytes; \d+ matching lines shown\]/);
    expect(reply.content.split('\n')[0]).toMatch(/:1:hit w+…$/);
    expect(result?.truncated).toBe(true);
  });

  it('stops a runaway regular expression at the timeout without blocking the daimon', async () => {
    writeFileSync(join(d, 'trap.txt'), `${'a'.repeat(40)}!\n`);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 20);
    const started = Date.now();
    const { reply } = await callTool(searcher, open, 'search', { pattern: '^(a+)+$', path: join(d, 'trap.txt') }, { timeoutsMs: { search: 500 } });
    clearInterval(ticker);
    expect(reply).toEqual({ content: '[timed out after 0.5 s]', isError: true });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(ticks).toBeGreaterThan(5);
  });

  it('refuses a pattern that is not a regular expression', async () => {
    const { reply } = await callTool(searcher, open, 'search', { pattern: '(unclosed', path: d });
    expect(reply.isError).toBe(true);
    expect(reply.content).toMatch(/^invalid input for search: pattern: is not a valid JavaScript regular expression: .*Unterminated group/);
  });

  it('reports a missing path', async () => {
    const { reply } = await callTool(searcher, open, 'search', { pattern: 'x', path: join(d, 'nope') });
    expect(reply).toEqual({ content: `${d}/nope: no such file or directory`, isError: true });
  });
});
