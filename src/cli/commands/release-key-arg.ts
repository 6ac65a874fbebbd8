import { readFileSync } from 'node:fs';
import { OkesuError } from '../../errors.js';
import { releaseKeyId } from '../../release/release-signing.js';

/**
 * The release public keys of one `--release-key` value: the key itself (`ed25519:…`), or a FILE holding one per line
 * (blank lines and `#` comments skipped). Throws OKS_ERR_RELEASE_KEY naming the file and line of a bad key.
 */
export function readReleaseKeys(value: string): string[] {
  const text = value.trim();
  if (text.startsWith('ed25519:')) {
    releaseKeyId(text);
    return [text];
  }
  let content: string;
  try {
    content = readFileSync(text, 'utf8');
  } catch (err) {
    throw new OkesuError('OKS_ERR_RELEASE_KEY', `--release-key ${text}: neither ed25519:… nor a readable file (${(err as Error).message})`);
  }
  const keys: string[] = [];
  content.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    try {
      releaseKeyId(line);
    } catch (err) {
      throw new OkesuError('OKS_ERR_RELEASE_KEY', `${text}:${i + 1}: ${(err as Error).message}`);
    }
    keys.push(line);
  });
  if (keys.length === 0) throw new OkesuError('OKS_ERR_RELEASE_KEY', `${text}: no release public key in it`);
  return keys;
}
