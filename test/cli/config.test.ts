import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadClientConfig, resolveConfigPath } from '../../src/cli/config.js';
import { OkesuError } from '../../src/errors.js';
import { TOKEN } from './helpers.js';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const yamlFor = (cp: string, token = TOKEN): string => `cp: ${cp}\ntoken: ${token}\nca: |\n${CA.split('\n').map((l) => `  ${l}`).join('\n')}\n`;

function configError(fn: () => unknown): OkesuError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OkesuError);
    expect((err as OkesuError).code).toBe('OKS_ERR_CONFIG');
    return err as OkesuError;
  }
  throw new Error('expected an OKS_ERR_CONFIG');
}

describe('loadClientConfig', () => {
  let dir: string;
  let home: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'okesu-cfg-'));
    home = join(dir, 'home');
    mkdirSync(join(home, '.config', 'okesu'), { recursive: true });
    writeFileSync(join(dir, 'flag.yaml'), yamlFor('https://flag.example:8443'));
    writeFileSync(join(dir, 'env.yaml'), yamlFor('https://env.example:8443'));
    writeFileSync(join(home, '.config', 'okesu', 'config.yaml'), yamlFor('https://default.example:8443'));
  });

  it.each([
    ['the flag over env and default', true, true, 'https://flag.example:8443'],
    ['env over the default', false, true, 'https://env.example:8443'],
    ['the default last', false, false, 'https://default.example:8443'],
  ])('takes %s', (_name, useFlag, useEnv, cp) => {
    const env = useEnv ? { OKESU_CONFIG: join(dir, 'env.yaml') } : {};
    const config = loadClientConfig(useFlag ? join(dir, 'flag.yaml') : undefined, env, home);
    expect(config.cp).toBe(cp);
    expect(config.token).toBe(TOKEN);
    expect(config.ca).toContain('BEGIN CERTIFICATE');
    expect(config.name).toBe('');
  });

  it('reports the source of the path', () => {
    expect(resolveConfigPath('x.yaml', { OKESU_CONFIG: 'y' }, home).source).toBe('--config');
    expect(resolveConfigPath(undefined, { OKESU_CONFIG: 'y' }, home)).toEqual({ path: 'y', source: 'OKESU_CONFIG' });
    expect(resolveConfigPath(undefined, {}, home)).toEqual({ path: join(home, '.config', 'okesu', 'config.yaml'), source: 'default' });
  });

  it('says to pass --config <cp state dir>/admin.yaml when nothing was found', () => {
    const err = configError(() => loadClientConfig(undefined, {}, join(dir, 'nobody')));
    expect(err.message).toContain(join(dir, 'nobody', '.config', 'okesu', 'config.yaml'));
    expect(err.message).toContain('--config <cp state dir>/admin.yaml');
  });

  it('names a missing --config file and where it came from', () => {
    const err = configError(() => loadClientConfig(join(dir, 'missing.yaml'), {}, home));
    expect(err.message).toContain(join(dir, 'missing.yaml'));
    expect(err.message).toContain('--config');
    expect(err.message).toContain('ENOENT');
  });

  it('names the file on invalid YAML', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'cp: [unclosed\n  token: :::\n');
    const err = configError(() => loadClientConfig(file, {}, home));
    expect(err.message).toContain(file);
    expect(err.message).toContain('invalid YAML');
  });

  it.each([
    ['a missing field', `cp: https://cp.example\nca: "${CA.replace(/\n/g, '\\n')}"\n`, 'token: missing'],
    ['a bad token', yamlFor('https://cp.example', 'hunter2'), 'token: token must be an operator token'],
    ['a plain-http cp', yamlFor('http://cp.example'), 'cp: cp must be an https:// URL'],
    ['a bad ca', `cp: https://cp.example\ntoken: ${TOKEN}\nca: nope\n`, 'ca: ca must be a PEM certificate'],
    ['not a mapping', '- a\n- b\n', 'expected a mapping'],
  ])('names the field on %s', (_name, text, expected) => {
    const file = join(dir, 'c.yaml');
    writeFileSync(file, text);
    const err = configError(() => loadClientConfig(file, {}, home));
    expect(err.message).toContain(file);
    expect(err.message).toContain(expected);
  });
});
