import ssh2 from 'ssh2';
import type { ClientChannel, ConnectConfig, SFTPWrapper } from 'ssh2';
import { sshFingerprint } from './host-key-check.js';
import type { SshTarget } from './target.js';

/** How `okesu deploy` authenticates: a private key (read from `--identity`), or the operator's ssh-agent. */
export type SshAuth = { kind: 'key'; file: string; privateKey: Buffer; passphrase?: string } | { kind: 'agent'; socket: string };

/** Why an SSH step failed, as a word a summary can count by, and a sentence. */
export type SshFailureKind = 'port_closed' | 'unreachable' | 'timeout' | 'auth_refused' | 'host_key_changed' | 'host_key_unknown' | 'ssh';

/** An SSH failure of one target: what kind, and a sentence naming the target. */
export class SshFailure extends Error {
  constructor(readonly kind: SshFailureKind, message: string) {
    super(message);
    this.name = 'SshFailure';
  }
}

/** What a command run on the target returned. */
export interface ExecResult {
  code: number | null;
  signal: string | undefined;
  stdout: string;
  stderr: string;
}

/** An open, authenticated SSH connection to one target, its host key already accepted. */
export interface SshConnection {
  /** The fingerprint of the host key the target presented. */
  readonly hostKey: string;
  /**
   * Runs `command` through the target's shell with `input` on its stdin (then closed); rejects after `timeoutMs`,
   * naming `what` (e.g. `okesu install`); each stream keeps its last `maxBytes` (where a result and an error are).
   */
  exec(command: string, opts?: { input?: string; timeoutMs?: number; maxBytes?: number; what?: string }): Promise<ExecResult>;
  /** Copies a local file to `remotePath` by SFTP with `mode`. */
  upload(localPath: string, remotePath: string, mode: number): Promise<void>;
  close(): void;
}

/** Options of one connection. */
export interface ConnectOptions {
  target: SshTarget;
  auth: SshAuth;
  /** Decides on the host key before authentication: undefined accepts, a sentence refuses (and `changed` says why). */
  verifyHostKey: (fingerprint: string) => { refusal: string; changed: boolean } | undefined;
  /** Handshake and authentication time limit (default 20 s). */
  timeoutMs?: number;
}

/** Connects, checks the host key (before any authentication, so nothing is sent to a host that is not the one pinned) and authenticates. */
export function connectSsh(o: ConnectOptions): Promise<SshConnection> {
  const client = new ssh2.Client();
  let refused: { refusal: string; changed: boolean } | undefined;
  let hostKey = '';
  const where = o.target.text;
  const config: ConnectConfig = {
    host: o.target.host, port: o.target.port, username: o.target.user, readyTimeout: o.timeoutMs ?? 20_000, keepaliveInterval: 15_000,
    hostVerifier: (key: Buffer) => {
      hostKey = sshFingerprint(key);
      refused = o.verifyHostKey(hostKey);
      return refused === undefined;
    },
    ...(o.auth.kind === 'key' ? { privateKey: o.auth.privateKey, ...(o.auth.passphrase !== undefined && { passphrase: o.auth.passphrase }) } : { agent: o.auth.socket }),
  };
  return new Promise((resolve, reject) => {
    client.once('ready', () => {
      client.removeAllListeners('error');
      client.on('error', () => undefined);
      resolve(wrap(client, hostKey));
    });
    client.once('error', (err: Error & { code?: string; level?: string }) => {
      client.end();
      if (refused) reject(new SshFailure(refused.changed ? 'host_key_changed' : 'host_key_unknown', `${where}: ${refused.refusal}`));
      else reject(describeConnectError(err, o));
    });
    try {
      client.connect(config);
    } catch (err) {
      reject(new SshFailure('ssh', `${where}: ${err instanceof Error ? err.message : String(err)}`));
    }
  });
}

function describeConnectError(err: Error & { code?: string; level?: string }, o: ConnectOptions): SshFailure {
  const where = o.target.text;
  if (err.level === 'client-authentication') {
    const how = o.auth.kind === 'key' ? `the key ${o.auth.file}` : 'the keys of the ssh-agent';
    return new SshFailure('auth_refused', `${where}: auth refused: the host did not accept ${how} for user ${o.target.user}`);
  }
  if (err.code === 'ECONNREFUSED') return new SshFailure('port_closed', `${where}: port closed: connection refused on port ${o.target.port}`);
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return new SshFailure('unreachable', `${where}: unknown host ${o.target.host}`);
  if (err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH') return new SshFailure('unreachable', `${where}: host unreachable (${err.code})`);
  if (err.level === 'client-timeout' || err.code === 'ETIMEDOUT') return new SshFailure('timeout', `${where}: no SSH handshake within ${o.timeoutMs ?? 20_000} ms`);
  return new SshFailure('ssh', `${where}: ${err.message}${err.code ? ` (${err.code})` : ''}`);
}

function wrap(client: InstanceType<typeof ssh2.Client>, hostKey: string): SshConnection {
  let sftp: Promise<SFTPWrapper> | undefined;
  const openSftp = (): Promise<SFTPWrapper> =>
    (sftp ??= new Promise((resolve, reject) => client.sftp((err, s) => (err ? reject(err) : resolve(s)))));
  return {
    hostKey,
    exec(command, opts = {}) {
      const maxBytes = opts.maxBytes ?? 1024 * 1024;
      return new Promise((resolve, reject) => {
        client.exec(command, (err, channel: ClientChannel) => {
          if (err) return reject(err);
          const out = tailBuffer(maxBytes);
          const errOut = tailBuffer(maxBytes);
          let code: number | null = null;
          let signal: string | undefined;
          const timer = setTimeout(() => {
            channel.close();
            reject(new Error(`${opts.what ?? `"${command.slice(0, 40)}"`} did not finish within ${Math.round((opts.timeoutMs ?? 300_000) / 1000)} s`));
          }, opts.timeoutMs ?? 300_000);
          channel.on('data', (chunk: Buffer) => out.add(chunk));
          channel.stderr.on('data', (chunk: Buffer) => errOut.add(chunk));
          channel.on('exit', (c: number | null, s?: string) => {
            code = c;
            signal = s ?? undefined;
          });
          channel.end(opts.input);
          channel.on('close', () => {
            clearTimeout(timer);
            resolve({ code, signal, stdout: out.text(), stderr: errOut.text() });
          });
        });
      });
    },
    async upload(localPath, remotePath, mode) {
      const s = await openSftp();
      await new Promise<void>((resolve, reject) => s.fastPut(localPath, remotePath, { mode }, (err) => (err ? reject(err) : resolve())));
      await new Promise<void>((resolve, reject) => s.chmod(remotePath, mode, (err) => (err ? reject(err) : resolve())));
    },
    close() {
      client.end();
    },
  };
}

/** The last `maxBytes` of a stream, kept as chunks (a long output's end is where an install's outcome and error are). */
function tailBuffer(maxBytes: number): { add(chunk: Buffer): void; text(): string } {
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    add(chunk) {
      chunks.push(chunk);
      size += chunk.length;
      while (size - (chunks[0]?.length ?? 0) >= maxBytes && chunks.length > 1) size -= (chunks.shift() as Buffer).length;
    },
    text: () => {
      const all = Buffer.concat(chunks);
      return all.subarray(Math.max(0, all.length - maxBytes)).toString('utf8');
    },
  };
}
