import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callTool, denyPolicy, tempDir, toolAgent } from './tool-helpers.js';

const lister = toolAgent(['list_files']);
const open = denyPolicy();
let tmp: { dir: string; cleanup(): void };
beforeEach(() => {
  tmp = tempDir();
  const d = tmp.dir;
  mkdirSync(join(d, 'logs', 'old'), { recursive: true });
  mkdirSync(join(d, 'secret'));
  writeFileSync(join(d, 'a.txt'), 'hello');
  writeFileSync(join(d, 'logs', 'app.log'), 'x'.repeat(1234));
  writeFileSync(join(d, 'logs', 'old', 'app.log.1'), '');
  writeFileSync(join(d, 'secret', 'key.pem'), 'KEY');
  symlinkSync(join(d, 'secret'), join(d, 'logs', 'to-secret'));
});
afterEach(() => tmp.cleanup());

describe('list_files tool', () => {
  it('lists a directory with types and sizes', async () => {
    const { reply, result } = await callTool(lister, open, 'list_files', { path: tmp.dir });
    expect(reply).toEqual({ content: 'type\tsize\tpath\nfile\t5\ta.txt\ndir\t-\tlogs/\ndir\t-\tsecret/', isError: false });
    expect(result).toMatchObject({ is_error: false, truncated: false });
  });

  it('lists recursively without following symlinks', async () => {
    const { reply } = await callTool(lister, open, 'list_files', { path: join(tmp.dir, 'logs'), recursive: true });
    expect(reply.content.split('\n')).toEqual([
      'type\tsize\tpath',
      'file\t1234\tapp.log',
      'dir\t-\told/',
      'file\t0\told/app.log.1',
      `symlink\t-\tto-secret -> ${join(tmp.dir, 'secret')}`,
    ]);
  });

  it('leaves out entries the policy denies and says how many', async () => {
    const policy = denyPolicy({ paths: [join(tmp.dir, 'secret')] });
    const { reply } = await callTool(lister, policy, 'list_files', { path: tmp.dir, recursive: true });
    expect(reply.content).not.toContain('key.pem');
    expect(reply.content).not.toContain('secret/');
    expect(reply.content.split('\n').at(-1)).toBe('[1 entry hidden by policy]');
  });

  it('leaves out entries the agent rbac denies', async () => {
    const agent = toolAgent(['list_files'], { deny: [{ tool: 'list_files', pattern: '**/*.log*' }] });
    const { reply } = await callTool(agent, open, 'list_files', { path: join(tmp.dir, 'logs'), recursive: true });
    expect(reply.content.split('\n')).toEqual([
      'type\tsize\tpath',
      'dir\t-\told/',
      `symlink\t-\tto-secret -> ${join(tmp.dir, 'secret')}`,
      '[2 entries hidden by policy]',
    ]);
  });

  it('stops at max_entries and says so', async () => {
    const { reply, result } = await callTool(lister, open, 'list_files', { path: tmp.dir, recursive: true, max_entries: 2 });
    expect(reply.content.split('\n')).toEqual(['type\tsize\tpath', 'file\t5\ta.txt', 'dir\t-\tlogs/', '[listing stopped at 2 entries]']);
    expect(result?.truncated).toBe(true);
  });

  it('caps the output at 32 KB', async () => {
    const many = join(tmp.dir, 'many');
    mkdirSync(many);
    for (let i = 0; i < 1500; i++) writeFileSync(join(many, `file-with-a-long-name-${String(i).padStart(5, '0')}.txt`), '');
    const { reply, result } = await callTool(lister, open, 'list_files', { path: many, max_entries: 10_000 });
    expect(Buffer.byteLength(reply.content)).toBeLessThanOrEqual(32 * 1024 + 100);
    expect(reply.content).toMatch(/\n\[output truncated at 32768 bytes; \d+ entries shown\]$/);
    expect(result?.truncated).toBe(true);
  });

  it('quotes names with control characters so they cannot forge lines', async () => {
    writeFileSync(join(tmp.dir, 'evil\nfile\t0\tfake.txt'), '');
    const { reply } = await callTool(lister, open, 'list_files', { path: tmp.dir });
    expect(reply.content).toContain('file\t0\t"evil\\nfile\\t0\\tfake.txt"');
    expect(reply.content.split('\n')).toHaveLength(5);
  });

  it('describes a single file', async () => {
    const { reply } = await callTool(lister, open, 'list_files', { path: join(tmp.dir, 'a.txt') });
    expect(reply.content).toBe('type\tsize\tpath\nfile\t5\ta.txt');
  });

  it('says when a directory is empty', async () => {
    mkdirSync(join(tmp.dir, 'empty'));
    const { reply } = await callTool(lister, open, 'list_files', { path: join(tmp.dir, 'empty') });
    expect(reply.content).toBe('type\tsize\tpath\n[empty directory]');
  });

  it('reports a missing path as an error', async () => {
    const { reply } = await callTool(lister, open, 'list_files', { path: join(tmp.dir, 'nope') });
    expect(reply).toEqual({ content: `${join(tmp.dir, 'nope')}: no such file or directory`, isError: true });
  });
});
