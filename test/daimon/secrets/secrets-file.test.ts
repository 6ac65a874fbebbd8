import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OkesuError } from '../../../src/errors.js';
import { readSecretsFile } from '../../../daimon/secrets/secrets-file.js';
import { takeProviderSecrets } from '../../../daimon/secrets/take-secrets.js';

const KEY = 'sk-ant-api03-file-0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'okesu-secrets-'));
let n = 0;
function secretsFile(text: string, mode = 0o600): string {
  const path = join(dir, `secrets-${++n}.env`);
  writeFileSync(path, text, { mode });
  chmodSync(path, mode);
  return path;
}

/** The error readSecretsFile throws for `path`. */
function problem(path: string): OkesuError {
  try {
    readSecretsFile(path);
  } catch (err) {
    expect(err).toBeInstanceOf(OkesuError);
    expect((err as OkesuError).code).toBe('OKS_ERR_CONFIG');
    return err as OkesuError;
  }
  throw new Error(`${path} was accepted`);
}

describe('secrets file: format', () => {
  it('reads NAME=value lines, skipping comments and blank lines, and drops one pair of quotes', () => {
    const path = secretsFile(
      ['# provider keys for web-1', '', `ANTHROPIC_API_KEY=${KEY}`, '  OPENAI_API_KEY = "sk-proj-quoted-123456"  ', "ANTHROPIC_BASE_URL='http://127.0.0.1:9/'", 'OPENAI_ORG_ID=org-1\r', ''].join('\n'),
    );
    expect(readSecretsFile(path)).toEqual({
      ANTHROPIC_API_KEY: KEY, OPENAI_API_KEY: 'sk-proj-quoted-123456', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9/', OPENAI_ORG_ID: 'org-1',
    });
  });

  it.each<[string, string, string]>([
    ['an unknown name', `ANTHROPIC_API_KEY=${KEY}\nGITHUB_TOKEN=ghp_x`, 'line 2: unknown name GITHUB_TOKEN'],
    ['a line with no name (a key pasted alone)', `${KEY}\n`, 'line 1: expected NAME=value'],
    ['a name given twice', `ANTHROPIC_API_KEY=${KEY}\n#\nANTHROPIC_API_KEY=${KEY}x`, 'line 3: ANTHROPIC_API_KEY is given again (first on line 1)'],
    ['an empty value', 'OPENAI_API_KEY=', 'line 1: OPENAI_API_KEY has an empty value'],
    ['a key with a space', 'OPENAI_API_KEY=sk proj', 'line 1: OPENAI_API_KEY: expected printable ASCII'],
    ['a base URL that is not http(s)', 'OPENAI_BASE_URL=ftp://x', 'line 1: OPENAI_BASE_URL: expected an http(s):// URL'],
  ])('refuses %s, naming the line and never the value', (_name, text, expected) => {
    const path = secretsFile(text);
    const err = problem(path);
    expect(err.message).toContain(`secrets file ${path}: ${expected}`);
    expect(err.message).not.toContain(KEY.slice(8));
    expect(err.message).not.toContain('sk proj');
  });
});

describe('secrets file: the file itself', () => {
  it.each([0o640, 0o604, 0o660, 0o606, 0o644, 0o666])('refuses mode %o, naming the file and the mode', (mode) => {
    const path = secretsFile(`ANTHROPIC_API_KEY=${KEY}`, mode);
    expect(problem(path).message).toContain(
      `secrets file ${path}: mode 0${mode.toString(8)} lets group or others read or write it; it must be 0600 or stricter (chmod 600 ${path})`,
    );
  });

  it.each([0o600, 0o400])('accepts mode %o', (mode) => {
    expect(readSecretsFile(secretsFile(`ANTHROPIC_API_KEY=${KEY}`, mode))).toEqual({ ANTHROPIC_API_KEY: KEY });
  });

  it('refuses a missing file, a directory and a FIFO (without hanging on it)', () => {
    expect(problem(join(dir, 'nope')).message).toContain('no such file');
    const sub = join(dir, 'a-dir');
    mkdirSync(sub, { mode: 0o700 });
    expect(problem(sub).message).toContain('not a regular file');
    const fifo = join(dir, 'a-fifo');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    expect(problem(fifo).message).toContain('not a regular file');
  });

  it('checks what a symlink points to', () => {
    const target = secretsFile(`ANTHROPIC_API_KEY=${KEY}`, 0o644);
    const link = join(dir, 'link.env');
    symlinkSync(target, link);
    expect(problem(link).message).toContain('mode 0644');
  });

  it.runIf(process.getuid?.() === 0)('refuses a file owned by another user (root only can set that up)', () => {
    const path = secretsFile(`ANTHROPIC_API_KEY=${KEY}`);
    execFileSync('chown', ['65534', path]);
    expect(problem(path).message).toContain('owned by uid 65534');
  });
});

describe('takeProviderSecrets', () => {
  it('takes the settings out of the environment into the store, and leaves the rest of the environment alone', () => {
    const env: NodeJS.ProcessEnv = { PATH: '/usr/bin', ANTHROPIC_API_KEY: ` ${KEY} `, OPENAI_API_KEY: '', OPENAI_BASE_URL: 'http://127.0.0.1:1/v1' };
    const taken = takeProviderSecrets({ env });
    expect(env).toEqual({ PATH: '/usr/bin' });
    expect(taken.store.get('ANTHROPIC_API_KEY')).toBe(KEY);
    expect(taken.store.get('OPENAI_API_KEY')).toBeUndefined();
    expect(taken.fromEnv).toEqual(['ANTHROPIC_API_KEY', 'OPENAI_BASE_URL']);
    expect(taken.store.held()).toEqual([{ name: 'ANTHROPIC_API_KEY', value: KEY }]);
  });

  it('lets the file win over the environment, and says which names it overrode (not their values)', () => {
    const env: NodeJS.ProcessEnv = { ANTHROPIC_API_KEY: 'sk-ant-from-env-000000', OPENAI_API_KEY: 'sk-proj-same-0000000' };
    const file = secretsFile(`ANTHROPIC_API_KEY=${KEY}\nOPENAI_API_KEY=sk-proj-same-0000000`);
    const taken = takeProviderSecrets({ env, file });
    expect(taken.store.get('ANTHROPIC_API_KEY')).toBe(KEY);
    expect(taken.overridden).toEqual(['ANTHROPIC_API_KEY']);
    expect(env).toEqual({});
    // The environment's key lost but is still redacted.
    expect(taken.store.held().map((h) => h.value)).toEqual([KEY, 'sk-proj-same-0000000', 'sk-ant-from-env-000000']);
  });

  it('changes nothing when the file or an environment value is bad', () => {
    const env: NodeJS.ProcessEnv = { ANTHROPIC_API_KEY: KEY, OPENAI_BASE_URL: 'not a url' };
    expect(() => takeProviderSecrets({ env })).toThrow('environment variable OPENAI_BASE_URL: expected an http(s):// URL');
    expect(() => takeProviderSecrets({ env: { ANTHROPIC_API_KEY: KEY }, file: secretsFile('X=1') })).toThrow('unknown name X');
    expect(env).toEqual({ ANTHROPIC_API_KEY: KEY, OPENAI_BASE_URL: 'not a url' });
  });
});
