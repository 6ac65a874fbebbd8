import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { SshAuth } from './ssh-connection.js';

/** Keys ssh tries by default, in its order (of those ssh2 reads). */
const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

/**
 * How `okesu deploy` authenticates: `--identity FILE` (an encrypted key takes its passphrase from
 * $OKESU_SSH_PASSPHRASE), else the ssh-agent at $SSH_AUTH_SOCK, else ~/.ssh/id_ed25519, id_ecdsa or id_rsa. The key
 * is read here, on the operator's machine, and never sent anywhere: SSH proves it by signing.
 */
export function resolveSshAuth(identity: string | undefined, env: NodeJS.ProcessEnv): SshAuth {
  if (identity === undefined && env.SSH_AUTH_SOCK) return { kind: 'agent', socket: env.SSH_AUTH_SOCK };
  const file = identity ?? DEFAULT_KEYS.map((k) => join(env.HOME ?? homedir(), '.ssh', k)).find((f) => existsSync(f));
  if (file === undefined) throw new Error('no SSH key: pass --identity FILE, or run an ssh-agent (SSH_AUTH_SOCK)');
  let privateKey: Buffer;
  try {
    privateKey = readFileSync(file);
  } catch (err) {
    throw new Error(`--identity ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const passphrase = env.OKESU_SSH_PASSPHRASE || undefined;
  const parsed = ssh2.utils.parseKey(privateKey, passphrase);
  if (parsed instanceof Error) {
    const hint = /encrypted|passphrase/i.test(parsed.message) ? ' (an encrypted key: set OKESU_SSH_PASSPHRASE, or use an ssh-agent)' : '';
    throw new Error(`${file}: not a usable SSH private key: ${parsed.message}${hint}`);
  }
  return { kind: 'key', file, privateKey, ...(passphrase !== undefined && { passphrase }) };
}
