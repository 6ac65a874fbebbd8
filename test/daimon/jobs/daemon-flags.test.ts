import { Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { createContext } from '../../../src/cli/context.js';
import { registerDaemon } from '../../../src/cli/commands/daemon.js';
import { buildChildEnv } from '../../../daimon/run/child-env.js';
import { testDeps } from '../../cli/helpers.js';
import { tempDir } from '../core/helpers.js';

/** Runs `okesu daemon ARGS` in-process; resolves with the exit code and what went to stderr. */
async function daemon(args: string[]): Promise<{ code: number; stderr: string }> {
  const deps = testDeps({ env: {} });
  const program = new Command('okesu');
  registerDaemon(program, createContext(deps));
  for (const cmd of [program, ...program.commands]) {
    cmd.exitOverride().configureOutput({ writeOut: (t) => void deps.stdout.write(t), writeErr: (t) => void deps.stderr.write(t) });
  }
  try {
    await program.parseAsync(['daemon', '--log-level', 'silent', ...args], { from: 'user' });
    return { code: 0, stderr: deps.stderr.text() };
  } catch (err) {
    if (err instanceof CommanderError) return { code: err.exitCode, stderr: deps.stderr.text() };
    throw err;
  }
}

describe('okesu daemon: jobs-mode flags', () => {
  it.each([
    [['--poll', '5s'], 'OKS_ERR_CONFIG', '--poll apply to the jobs bucket: give --bucket'],
    [['--s3-endpoint', 'http://127.0.0.1:7480', '--heartbeat-every', '3'], 'OKS_ERR_CONFIG', '--s3-endpoint, --heartbeat-every apply'],
    [['--bucket', 'https://example.com/b'], 'OKS_ERR_CONFIG', '--bucket must look like s3://BUCKET[/PREFIX]'],
    [['--bucket', 's3://okesu-jobs', '--poll', '2h', '--heartbeat-every', '13'], 'OKS_ERR_CONFIG', 'at most a day'],
    [['--bucket', 's3://okesu-jobs', '--s3-endpoint', 'http://key:secret@127.0.0.1:7480'], 'OKS_ERR_CONFIG', 'must not carry credentials'],
    // No --cp and no identity: registration goes through the bucket, and the token is checked before any request.
    [['--bucket', 's3://okesu-jobs/fleet', '--s3-endpoint', 'http://127.0.0.1:9', '--token', 'okj_nonsense'], 'OKS_ERR_TOKEN_INVALID', 'expected a join token'],
    [['--transport', 'tunnel', '--bucket', 's3://okesu-jobs'], 'OKS_ERR_CONFIG', 'no identity in'],
  ])('okesu daemon %j → %s', async (args, code, text) => {
    const r = await daemon(['--state', tempDir('flags'), ...args]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`okesu: ${code}`);
    expect(r.stderr).toContain(text);
    expect(r.stderr).not.toContain('secret@');
  });

  it('refuses an unknown --transport and a bad --poll as usage errors', async () => {
    for (const args of [['--transport', 'pigeon'], ['--bucket', 's3://okesu-jobs', '--poll', 'often']]) {
      const r = await daemon(['--state', tempDir('usage'), ...args]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/--transport|--poll/);
    }
  });
});

describe('bucket credentials and child processes', () => {
  it('never hands AWS_* variables to the processes a run starts (the child environment is an allowlist)', () => {
    const env = buildChildEnv({ PATH: '/usr/bin', HOME: '/root', AWS_ACCESS_KEY_ID: 'AKIA', AWS_SECRET_ACCESS_KEY: 'shh', AWS_SESSION_TOKEN: 't', AWS_PROFILE: 'p', AWS_REGION: 'r' });
    expect(Object.keys(env).filter((k) => k.startsWith('AWS_'))).toEqual([]);
  });
});
