import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { builtinAgentsDir, loadAgentCatalog } from '../../src/specs/agent-catalog.js';
import { formatSpecError } from '../../src/specs/parse-agent.js';

const agent = (name: string, description = '') => `---\nname: ${name}\nmodel: opus\ndescription: "${description}"\n---\nprompt\n`;

describe('loadAgentCatalog', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'okesu-catalog-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function dir(name: string, files: Record<string, string>): Promise<string> {
    const path = join(root, name);
    await mkdir(path, { recursive: true });
    for (const [file, text] of Object.entries(files)) await writeFile(join(path, file), text);
    return path;
  }

  it('loads every *.md agent and ignores other files', async () => {
    const d = await dir('a', { 'edr.md': agent('edr'), 'sre.md': agent('sre-health'), 'README.txt': 'not an agent' });
    const { agents, errors } = await loadAgentCatalog([d]);
    expect(errors).toEqual([]);
    expect([...agents.keys()].sort()).toEqual(['edr', 'sre-health']);
    expect(agents.get('edr')?.source).toBe(join(d, 'edr.md'));
  });

  it('lets the first directory that defines a name win', async () => {
    const local = await dir('local', { 'edr.md': agent('edr', 'local') });
    const builtin = await dir('builtin', { 'edr.md': agent('edr', 'builtin'), 'sre.md': agent('sre-health', 'builtin') });
    const { agents, errors } = await loadAgentCatalog([local, builtin]);
    expect(errors).toEqual([]);
    expect(agents.get('edr')?.description).toBe('local');
    expect(agents.get('sre-health')?.description).toBe('builtin');
  });

  it('reports broken files with their path and keeps the good ones', async () => {
    const d = await dir('a', { 'bad.md': '---\nname: bad\nprovider: clod\n---\n', 'good.md': agent('good') });
    const { agents, errors } = await loadAgentCatalog([d]);
    expect([...agents.keys()]).toEqual(['good']);
    expect(errors.map(formatSpecError)).toEqual([`${join(d, 'bad.md')}:3:11: provider: expected one of claude, codex, custom`]);
  });

  it('reports two files of one directory that define the same name', async () => {
    const d = await dir('a', { 'a.md': agent('edr', 'first'), 'b.md': agent('edr', 'second') });
    const { agents, errors } = await loadAgentCatalog([d]);
    expect(agents.get('edr')?.description).toBe('first');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/already defined in .*a\.md/);
  });

  it('skips a directory that does not exist', async () => {
    const d = await dir('a', { 'edr.md': agent('edr') });
    const { agents, errors } = await loadAgentCatalog([join(root, 'missing'), d]);
    expect(errors).toEqual([]);
    expect(agents.has('edr')).toBe(true);
  });
});

describe('builtinAgentsDir', () => {
  const repo = resolve(import.meta.dirname, '../..');

  it('finds the repo agents/ from the source tree', () => {
    expect(builtinAgentsDir()).toBe(join(repo, 'agents'));
    expect(builtinAgentsDir(join(repo, 'src/specs/agent-catalog.ts'))).toBe(join(repo, 'agents'));
  });

  it('finds the repo agents/ from the bundle', () => {
    expect(builtinAgentsDir(join(repo, 'dist/okesu.js'))).toBe(join(repo, 'agents'));
  });

  it('throws when there is none', () => {
    expect(existsSync('/agents')).toBe(false);
    expect(() => builtinAgentsDir('/nowhere/x.js')).toThrow(/built-in agents/);
  });
});
