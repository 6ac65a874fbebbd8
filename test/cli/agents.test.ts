import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createProgram } from '../../src/cli/program.js';
import { testDeps } from './helpers.js';

let dir: string;
let agents: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'okesu-agents-cli-'));
  agents = join(dir, 'agents');
  mkdirSync(agents);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const GOOD = [
  '---',
  'name: words',
  'version: 2.0.0',
  'description: Reports words it is told to',
  'command: [sh, -c, "cat >/dev/null; echo \'{\\"type\\":\\"text\\",\\"text\\":\\"hello\\"}\'"]',
  'inputs: { words: [alpha] }',
  'collectors: [{ name: words, command: \'printf "%s\\n" "$OKESU_INPUT_WORDS"\' }]',
  'rules:',
  "  - { name: bad-word, collector: words, match: '^(?<w>evil\\w*)$', finding: { severity: high, title: 'Bad word {{w}}', resource: 'word:{{w}}' } }",
  '---',
  'Words on {{host}}.',
].join('\n');

async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const deps = testDeps({ env: { PATH: process.env.PATH, ...env }, now: Date.now });
  let code = 0;
  try {
    await createProgram(deps).parseAsync(['node', 'okesu', ...args]);
  } catch (err) {
    code = (err as { exitCode?: number }).exitCode ?? 1;
  }
  return { code, out: deps.stdout.text(), lines: deps.stdout.lines(), err: deps.stderr.text() };
}

describe('okesu agents validate', () => {
  it('prints ok for a good file and file:line:col: field: problem for a bad one, exiting 1', async () => {
    writeFileSync(join(agents, 'good.md'), GOOD);
    writeFileSync(join(agents, 'bad.md'), '---\nname: bad\nmodel: opus\neffort: max\n---\nbody\n');
    const r = await cli(['agents', 'validate', join(agents, 'good.md'), join(agents, 'bad.md')]);
    expect(r.code).toBe(1);
    expect(r.lines).toEqual([
      `${join(agents, 'good.md')}: ok (words 2.0.0, custom, oneshot)`,
      `${join(agents, 'bad.md')}:4:9: effort: expected one of low, medium, high`,
    ]);
  });

  it('exits 0 when every file is valid, and every built-in agent is valid', async () => {
    const builtins = ['edr', 'instance-integrity', 'instance-threat', 'persistence', 'sre-health', 'edr-investigator', 'forensic-collector', 'host-check'];
    const files = builtins.map((n) => join(import.meta.dirname, '..', '..', 'agents', `${n}.md`));
    const r = await cli(['agents', 'validate', '--json', ...files]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as { ok: boolean }[]).every((x) => x.ok)).toBe(true);
  });
});

describe('okesu agents list', () => {
  it('lists the --agents directory before the built-ins; a local agent of a built-in name wins', async () => {
    writeFileSync(join(agents, 'good.md'), GOOD);
    writeFileSync(join(agents, 'edr.md'), GOOD.replace('name: words', 'name: edr'));
    const r = await cli(['agents', 'list', '--json', '--agents', agents]);
    const list = JSON.parse(r.out) as { name: string; source: string; mode: string; rules: string[] }[];
    expect(list.map((a) => a.name)).toEqual(expect.arrayContaining(['words', 'edr', 'sre-health', 'instance-integrity']));
    expect(list.find((a) => a.name === 'edr')?.source).toBe(join(agents, 'edr.md'));
    expect(list.find((a) => a.name === 'words')).toMatchObject({ rules: ['bad-word'], mode: 'oneshot' });
  });

  it('warns about a broken file on stderr and lists the rest', async () => {
    writeFileSync(join(agents, 'broken.md'), 'no frontmatter');
    const r = await cli(['agents', 'list', '--agents', agents]);
    expect(r.code).toBe(0);
    expect(r.err).toContain(`warning: ${join(agents, 'broken.md')}:1:1: expected YAML frontmatter`);
    expect(r.out).toMatch(/^NAME\s+VERSION\s+PROVIDER/);
  });
});

describe('okesu agents run --local', () => {
  const state = () => join(dir, 'state');

  it('prints the run as JSONL: collectors, rule findings, the provider events, run_end', async () => {
    writeFileSync(join(agents, 'words.md'), GOOD);
    const r = await cli(['agents', 'run', 'words', '--local', '--json', '--agents', agents, '--state-dir', state(), '--input', 'words=evilish,ok']);
    expect(r.code).toBe(0);
    const events = r.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.map((e) => e.type)).toEqual(['run_start', 'collector_result', 'finding', 'text', 'run_end']);
    expect(events[2]).toMatchObject({ severity: 'HIGH', title: 'Bad word evilish', agent: 'words', agent_version: '2.0.0', seq: 3 });
    expect(events.every((e) => typeof e.ts === 'number' && e.run_id === events[0]?.run_id)).toBe(true);
  });

  it('prints readable lines without --json and runs a file given by path', async () => {
    writeFileSync(join(dir, 'words.md'), GOOD);
    const r = await cli(['agents', 'run', join(dir, 'words.md'), '--local', '--state-dir', state(), '--input', 'words=evil']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/collector words: 5 B in \d+ ms/);
    expect(r.out).toMatch(/finding HIGH Bad word evil {2}word:evil/);
    expect(r.out).toMatch(/run completed in \d+ ms, 1 findings/);
  });

  it('exits 3 when the run fails, 1, and refuses to run without --local', async () => {
    writeFileSync(join(agents, 'words.md'), GOOD.replace('inputs: { words: [alpha] }', 'inputs: { words: [alpha], n: 1 }'));
    const failed = await cli(['agents', 'run', 'words', '--local', '--json', '--agents', agents, '--state-dir', state(), '--input', 'n=many']);
    expect(failed.code).toBe(3);
    expect(failed.lines.map((l) => (JSON.parse(l) as { type: string }).type)).toEqual(['run_start', 'error', 'run_end']);
    const remote = await cli(['agents', 'run', 'words', '--agents', agents]);
    expect(remote.code).toBe(1);
    expect(remote.err).toContain('only --local runs are supported here');
  });

  it('honours a policy file given with --policy, and refuses a broken one', async () => {
    writeFileSync(join(agents, 'words.md'), GOOD);
    const policy = join(dir, 'policy.yaml');
    writeFileSync(policy, 'deny:\n  agents: [words]\n', { mode: 0o600 });
    const denied = await cli(['agents', 'run', 'words', '--local', '--json', '--agents', agents, '--state-dir', state(), '--policy', policy]);
    expect(denied.code).toBe(3);
    expect(denied.lines.map((l) => (JSON.parse(l) as { type: string }).type)).toEqual(['run_start', 'action_denied', 'run_end']);
    writeFileSync(policy, 'deny:\n  agentz: [words]\n', { mode: 0o600 });
    const broken = await cli(['agents', 'run', 'words', '--local', '--agents', agents, '--state-dir', state(), '--policy', policy]);
    expect(broken.code).toBe(1);
    expect(broken.err).toMatch(/OKS_ERR_CONFIG: .*host policy: .*policy\.yaml:2:3: deny\.agentz: unknown field/);
  });
});
