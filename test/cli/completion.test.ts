import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgram, runCli } from '../../src/cli/program.js';
import { completeWords, type Completion } from '../../src/cli/completion/complete-words.js';
import { hello, startCp, waitFor, type CpHarness } from '../cp/cp-harness.js';
import { testDeps } from './helpers.js';

const OKESU_BIN = join(import.meta.dirname, '..', '..', 'dist', 'okesu.js');
const values = (c: Completion): string[] => (c.kind === 'words' ? c.candidates.map((x) => x.value) : []);

describe('completeWords over the real command tree', () => {
  const program = createProgram(testDeps());
  const complete = (...words: string[]): Completion => completeWords(program, words);

  it('completes commands, subcommands and flags, never the hidden protocol command', () => {
    expect(values(complete('ho'))).toEqual(['hosts']);
    expect(values(complete(''))).toEqual(expect.arrayContaining(['hosts', 'run', 'findings', 'completion', 'notify'].filter((c) => c !== 'notify')));
    expect(values(complete(''))).not.toContain('__complete');
    expect(values(complete('hosts', ''))).toEqual(['rm', 'label']);
    expect(values(complete('hosts', '--'))).toEqual(['--json', '--output', '--config', '--help']);
  });

  it('completes option values: choices, severities, --output=…, and knows which flags take a value', () => {
    expect(values(complete('run', '--dispatch', ''))).toEqual(['auto', 'tunnel', 'jobs']);
    expect(values(complete('findings', '--severity', 'h'))).toEqual(['high']);
    expect(values(complete('hosts', '--output=w'))).toEqual(['--output=wide']);
    expect(values(complete('completion', ''))).toEqual(['bash', 'zsh', 'fish']);
    // The value of --host is not taken for a subcommand or an argument.
    expect(complete('run', '--host', 'web-01', '')).toMatchObject({ kind: 'live', live: 'agents' });
  });

  it('asks for live names where a host, an agent or a run goes, and for paths where a file goes', () => {
    expect(complete('run', '--host', 'we')).toEqual({ kind: 'live', live: 'hosts', prefix: 'we', head: '', also: [] });
    expect(complete('run', 'edr', '--hosts', 'web-01,we')).toEqual({ kind: 'live', live: 'hosts', prefix: 'we', head: 'web-01,', also: [] });
    expect(complete('runs', 'show', 'r_')).toMatchObject({ kind: 'live', live: 'runs', prefix: 'r_' });
    expect(complete('hosts', 'rm', '')).toMatchObject({ kind: 'live', live: 'hosts' });
    expect(complete('agents', 'validate', 'x')).toEqual({ kind: 'files' });
    expect(complete('hosts', '--config', '')).toEqual({ kind: 'files' });
  });
});

describe('the completion scripts in real shells', () => {
  let h: CpHarness;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    if (!existsSync(OKESU_BIN)) throw new Error(`${OKESU_BIN} is missing: run npm run build first`);
    h = await startCp();
    const token = (await h.mintJoin({ uses: 2 })).token;
    for (const name of ['web-01', 'web-02']) (await h.connectHost(await h.registerHost(name, { token }), { hello: false })).send(hello());
    await waitFor(async () => (await h.admin.hosts()).filter((v) => v.connected).length === 2, 5000, 'two hosts online');
    dir = mkdtempSync(join(tmpdir(), 'okesu-completion-'));
    // `okesu` on PATH, as an installed CLI is: the scripts call it by name.
    writeFileSync(join(dir, 'okesu'), `#!/bin/sh\nexec "${process.execPath}" "${OKESU_BIN}" "$@"\n`, { mode: 0o755 });
    env = { PATH: `${dir}:/usr/bin:/bin`, HOME: dir, OKESU_CONFIG: join(h.stateDir, 'admin.yaml'), TERM: 'dumb' };
  });
  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs a shell to its end, asynchronously: the CP it asks for names answers from this process. */
  const sh = (shell: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve, reject) => {
      const child = spawn(shell, args, { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.once('error', reject);
      child.once('close', (status) => resolve({ status, stdout, stderr }));
    });

  /** COMPREPLY of bash completing `line` (the words of the command line, the last one being completed). */
  async function bashComplete(words: string[]): Promise<string[]> {
    const script = [
      'source <(okesu completion bash) || exit 9',
      `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}`,
      '_okesu_complete',
      'printf "%s\\n" "${COMPREPLY[@]}"',
    ].join('\n');
    const r = await sh('bash', ['--norc', '--noprofile', '-c', script]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return r.stdout.split('\n').filter((l) => l !== '');
  }

  it('bash loads the script without errors and completes commands, flags and host names from the CP', async () => {
    expect(await sh('bash', ['--norc', '--noprofile', '-c', 'source <(okesu completion bash) && complete -p okesu'])).toMatchObject({ status: 0, stderr: '', stdout: 'complete -F _okesu_complete okesu\n' });
    expect(await bashComplete(['okesu', 'ho'])).toEqual(['hosts']);
    expect(await bashComplete(['okesu', 'hosts', '--o'])).toEqual(['--output']);
    expect(await bashComplete(['okesu', 'run', '--host', 'web'])).toEqual(['web-01', 'web-02']);
    expect(await bashComplete(['okesu', 'run', '--host', 'web-01', 'edr-inv'])).toEqual(['edr-investigator']);
  });

  it('completes without live names, quickly and quietly, when the CP cannot be reached', async () => {
    const deps = testDeps({ env: { OKESU_CONFIG: join(dir, 'missing.yaml') } });
    expect(await runCli(['__complete', '--', 'run', '--host', ''], deps)).toBe(0);
    expect(deps.stdout.text()).toBe('');
  });

  it('zsh loads the script without errors and defines the completion', async () => {
    const r = await sh('zsh', ['-f', '-c', 'autoload -Uz compinit && compinit -u -d "$HOME/.zcompdump" && source <(okesu completion zsh) && print -r -- ${_comps[okesu]}']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('_okesu\n');
  });

  it('fish loads the script and completes commands and host names with it', async () => {
    const r = await sh('fish', ['--no-config', '-c', 'okesu completion fish | source; and complete -C "okesu ho"; and complete -C "okesu hosts rm web-0"']);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    expect(lines).toContainEqual(expect.stringMatching(/^hosts\tshow the fleet/));
    expect(lines).toEqual(expect.arrayContaining(['web-01', 'web-02']));
  });
});
