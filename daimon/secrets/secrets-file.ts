import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { OkesuError } from '../../src/errors.js';
import { PROVIDER_SETTINGS } from './secret-store.js';
import type { ProviderSettingName, ProviderSettings } from './secret-store.js';

/** Largest secrets file read; a few keys and URLs fit many times over. */
export const MAX_SECRETS_FILE_BYTES = 64 * 1024;

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Printable ASCII without spaces, quotes or backslashes: every real key fits, and such a value appears verbatim
// (unescaped) in a JSON log line, which is what lets the log scrubber find it.
const TOKEN_RE = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
const MAX_VALUE_LENGTH = 4096;

/** Whether `name` is a provider setting the daimon knows. */
export function isProviderSetting(name: string): name is ProviderSettingName {
  return (PROVIDER_SETTINGS as readonly string[]).includes(name);
}

/**
 * Checks one setting's value; the problem in words, or undefined when it is fine. The message never quotes the
 * value: it may be a key.
 */
export function checkSettingValue(name: ProviderSettingName, value: string): string | undefined {
  if (value.length > MAX_VALUE_LENGTH) return `longer than ${MAX_VALUE_LENGTH} characters`;
  if (name.endsWith('_BASE_URL')) {
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    return url && (url.protocol === 'https:' || url.protocol === 'http:') ? undefined : 'expected an http(s):// URL';
  }
  return TOKEN_RE.test(value) ? undefined : 'expected printable ASCII with no spaces, quotes or backslashes';
}

/**
 * Reads provider settings from a secrets file (`okesu daemon --secrets-file`): `NAME=value` lines, `#` comments and
 * blank lines; one pair of matching quotes around a value is dropped. The file must be a regular file owned by this
 * user or root with no access for group or others (0600 or stricter). Any problem is an OKS_ERR_CONFIG naming the
 * file and the line; no message ever quotes a value.
 */
export function readSecretsFile(path: string): ProviderSettings {
  const fail = (problem: string): never => {
    throw new OkesuError('OKS_ERR_CONFIG', `secrets file ${path}: ${problem}`);
  };
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO in its place must not hang the start; fstat below refuses it.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return fail(code === 'ENOENT' ? 'no such file' : `cannot open it (${code ?? (err as Error).message})`);
  }
  let text: string;
  try {
    // Checked on the open descriptor, so what is read is what was checked.
    const st = fstatSync(fd);
    if (!st.isFile()) fail('not a regular file');
    const uid = process.getuid?.();
    if (uid !== undefined && st.uid !== uid && st.uid !== 0) fail(`owned by uid ${st.uid}; it must belong to this user (uid ${uid}) or root`);
    const mode = st.mode & 0o777;
    if ((mode & 0o077) !== 0) {
      fail(`mode ${mode.toString(8).padStart(4, '0')} lets group or others read or write it; it must be 0600 or stricter (chmod 600 ${path})`);
    }
    if (st.size > MAX_SECRETS_FILE_BYTES) fail(`larger than ${MAX_SECRETS_FILE_BYTES} bytes`);
    const buf = Buffer.alloc(MAX_SECRETS_FILE_BYTES + 1);
    let size = 0;
    for (let n = -1; n !== 0 && size < buf.length; size += n) n = readSync(fd, buf, size, buf.length - size, null);
    if (size > MAX_SECRETS_FILE_BYTES) fail(`larger than ${MAX_SECRETS_FILE_BYTES} bytes`);
    text = buf.subarray(0, size).toString('utf8');
    buf.fill(0);
  } finally {
    closeSync(fd);
  }
  return parseSecretsText(text, fail);
}

/** Parses the lines of a secrets file; `fail` throws with the problem. */
export function parseSecretsText(text: string, fail: (problem: string) => never): ProviderSettings {
  const settings: ProviderSettings = {};
  const firstLine = new Map<string, number>();
  text.split('\n').forEach((raw, i) => {
    const lineNo = i + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const name = eq === -1 ? '' : line.slice(0, eq).trim();
    // The line is not quoted: without a valid name it may be a bare key pasted on its own.
    if (!NAME_RE.test(name)) fail(`line ${lineNo}: expected NAME=value`);
    if (!isProviderSetting(name)) fail(`line ${lineNo}: unknown name ${name} (known: ${PROVIDER_SETTINGS.join(', ')})`);
    const setting = name as ProviderSettingName;
    const seen = firstLine.get(setting);
    if (seen !== undefined) fail(`line ${lineNo}: ${setting} is given again (first on line ${seen})`);
    firstLine.set(setting, lineNo);
    let value = line.slice(eq + 1).trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) value = value.slice(1, -1);
    if (value === '') fail(`line ${lineNo}: ${setting} has an empty value`);
    const problem = checkSettingValue(setting, value);
    if (problem) fail(`line ${lineNo}: ${setting}: ${problem}`);
    settings[setting] = value;
  });
  return settings;
}
