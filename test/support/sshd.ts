import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's OpenSSH server (openssh-server; scripts/install-test-deps.sh installs it). */
export const SSHD = '/usr/sbin/sshd';

/** True when a real sshd can run here (installed; as root, or a user that can create /run/sshd). */
export function sshdAvailable(): boolean {
  return existsSync(SSHD);
}

/** An ed25519 key pair made with ssh-keygen: the private key file, and the public key line. */
export interface KeyPair {
  file: string;
  publicKey: string;
}

/** Makes an ed25519 key pair without a passphrase at `file` (and `file.pub`). */
export function makeKeyPair(file: string): KeyPair {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'okesu-test', '-f', file], { stdio: 'ignore' });
  return { file, publicKey: readFileSync(`${file}.pub`, 'utf8').trim() };
}

/** The SHA-256 fingerprint ssh-keygen prints for a public key file (`SHA256:…`). */
export function fingerprintOf(publicKeyFile: string): string {
  const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', publicKeyFile], { encoding: 'utf8' });
  const found = /SHA256:[A-Za-z0-9+/]{43}/.exec(out);
  if (!found) throw new Error(`ssh-keygen -l printed no fingerprint: ${out}`);
  return found[0];
}

/** A real sshd on 127.0.0.1, run as this test's own child, with a temp host key and one authorized user key. */
export interface Sshd {
  readonly dir: string;
  port: number;
  /** The user key the server authorizes. */
  readonly userKey: KeyPair;
  /** The host key's public line and fingerprint (change with `restart({ newHostKey: true })`). */
  hostKey: KeyPair;
  hostFingerprint(): string;
  /** sshd's log so far (for failure messages). */
  log(): string;
  /** Stops and starts it again on the same port; `newHostKey` first makes a new host key (a reinstalled host, or an impostor). */
  restart(opts?: { newHostKey?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** Resolves once the port answers with an SSH banner; rejects when the child exited or after `timeoutMs`. */
async function waitForBanner(port: number, child: ChildProcess, logFile: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sshd exited ${child.exitCode}: ${existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.setTimeout(1000, () => {
        s.destroy();
        resolve(false);
      });
      s.once('data', (d: Buffer) => {
        s.destroy();
        resolve(d.toString('latin1').startsWith('SSH-'));
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`sshd did not accept on 127.0.0.1:${port} within ${timeoutMs} ms: ${existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Starts sshd (docs: ../shared/reference/toolchain-notes.md, "SSH"); stop it in afterAll. */
export async function startSshd(opts: { port?: number } = {}): Promise<Sshd> {
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(join(tmpdir(), 'okesu-sshd-'));
  const userKey = makeKeyPair(join(dir, 'user_ed25519'));
  writeFileSync(join(dir, 'authorized_keys'), `${userKey.publicKey}\n`, { mode: 0o600 });
  let hostKey = makeKeyPair(join(dir, 'host_ed25519'));
  let generation = 0;
  const logFile = join(dir, 'sshd.log');
  let child: ChildProcess | undefined;
  let port = opts.port ?? (await freePort());

  const launch = async (): Promise<void> => {
    child = spawn(SSHD, [
      '-D', '-f', '/dev/null', '-E', logFile, '-p', String(port), '-o', 'ListenAddress=127.0.0.1', '-h', hostKey.file,
      '-o', `PidFile=${join(dir, 'sshd.pid')}`, '-o', `AuthorizedKeysFile=${join(dir, 'authorized_keys')}`, '-o', 'StrictModes=no',
      '-o', 'UsePAM=no', '-o', 'PasswordAuthentication=no', '-o', 'KbdInteractiveAuthentication=no',
      '-o', 'PermitRootLogin=prohibit-password', '-o', 'Subsystem=sftp internal-sftp',
    ], { stdio: 'ignore' });
    await waitForBanner(port, child, logFile);
  };
  const halt = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    await exited;
  };
  await launch();

  return {
    dir, userKey,
    get port() {
      return port;
    },
    set port(p: number) {
      port = p;
    },
    get hostKey() {
      return hostKey;
    },
    set hostKey(k: KeyPair) {
      hostKey = k;
    },
    hostFingerprint: () => fingerprintOf(`${hostKey.file}.pub`),
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    async restart(o = {}) {
      await halt();
      if (o.newHostKey) hostKey = makeKeyPair(join(dir, `host_ed25519_${++generation}`));
      await launch();
    },
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
