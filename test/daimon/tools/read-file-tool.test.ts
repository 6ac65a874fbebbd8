import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callTool, denyPolicy, tempDir, toolAgent } from './tool-helpers.js';

const reader = toolAgent(['read_file']);
const open = denyPolicy();
let tmp: { dir: string; cleanup(): void };
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

describe('read_file tool', () => {
  it('returns a text file as it is', async () => {
    writeFileSync(join(tmp.dir, 'a.txt'), 'line one\nline two\n');
    const { reply, result } = await callTool(reader, open, 'read_file', { path: join(tmp.dir, 'a.txt') });
    expect(reply).toEqual({ content: 'line one\nline two\n', isError: false });
    expect(result).toMatchObject({ type: 'tool_result', tool: 'read_file', is_error: false, truncated: false });
  });

  it('resolves a relative path against the working directory', async () => {
    mkdirSync(join(tmp.dir, 'sub'));
    writeFileSync(join(tmp.dir, 'sub', 'b.txt'), 'bee');
    const { reply } = await callTool(reader, open, 'read_file', { path: 'sub/b.txt' }, { cwd: tmp.dir });
    expect(reply.content).toBe('bee');
  });

  it('reads from an offset, at most max_bytes, and says where to go on', async () => {
    writeFileSync(join(tmp.dir, 'a.txt'), '0123456789');
    const { reply, result } = await callTool(reader, open, 'read_file', { path: join(tmp.dir, 'a.txt'), offset_bytes: 2, max_bytes: 3 });
    expect(reply.content).toBe('234\n[output truncated at 3 bytes; file 10 bytes; next offset_bytes 5]');
    expect(result?.truncated).toBe(true);
  });

  it('caps a large file at 128 KB', async () => {
    writeFileSync(join(tmp.dir, 'big.log'), 'y'.repeat(300_000));
    const { reply, result } = await callTool(reader, open, 'read_file', { path: join(tmp.dir, 'big.log'), max_bytes: 10_000_000 });
    const [body, note] = reply.content.split('\n');
    expect(body).toHaveLength(131072);
    expect(note).toBe('[output truncated at 131072 bytes; file 300000 bytes; next offset_bytes 131072]');
    expect(result?.truncated).toBe(true);
  });

  it('does not cut a character in half at the cap', async () => {
    writeFileSync(join(tmp.dir, 'u.txt'), `ab${'€'.repeat(10)}`);
    const { reply } = await callTool(reader, open, 'read_file', { path: join(tmp.dir, 'u.txt'), max_bytes: 6 });
    expect(reply.content).toBe('ab€\n[output truncated at 6 bytes; file 32 bytes; next offset_bytes 5]');
  });

  it('reports a binary file instead of dumping it', async () => {
    writeFileSync(join(tmp.dir, 'bin'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3]));
    const { reply } = await callTool(reader, open, 'read_file', { path: join(tmp.dir, 'bin') });
    expect(reply).toEqual({ content: '[binary file (8 bytes); not shown]', isError: false });
  });

  it('reads files that report size 0, like those in /proc', async () => {
    const { reply } = await callTool(reader, open, 'read_file', { path: '/proc/version' });
    expect(reply.isError).toBe(false);
    expect(reply.content).toMatch(/^Linux version /);
  });

  it.each([
    { name: 'an empty file', setup: (d: string) => writeFileSync(join(d, 'x'), ''), extra: {}, message: '[empty file]', isError: false },
    { name: 'an offset past the end', setup: (d: string) => writeFileSync(join(d, 'x'), 'abc'), extra: { offset_bytes: 10 }, message: '[offset 10 is past the end of the file (3 bytes)]', isError: false },
    { name: 'a directory', setup: (d: string) => mkdirSync(join(d, 'x')), extra: {}, message: '{x} is a directory', isError: true },
    { name: 'a missing file', setup: () => {}, extra: {}, message: '{x}: no such file or directory', isError: true },
    { name: 'a fifo', setup: (d: string) => execFileSync('mkfifo', [join(d, 'x')]), extra: {}, message: '{x} is not a regular file (fifo)', isError: true },
  ])('$name', async ({ setup, extra, message, isError }) => {
    setup(tmp.dir);
    const { reply } = await callTool(reader, open, 'read_file', { path: join(tmp.dir, 'x'), ...extra });
    expect(reply).toEqual({ content: message.replace('{x}', join(tmp.dir, 'x')), isError });
  });

  it('reads through a symlink that stays in allowed places', async () => {
    writeFileSync(join(tmp.dir, 'target.txt'), 'target');
    symlinkSync(join(tmp.dir, 'target.txt'), join(tmp.dir, 'link'));
    const { reply } = await callTool(reader, open, 'read_file', { path: join(tmp.dir, 'link') });
    expect(reply.content).toBe('target');
  });
});
