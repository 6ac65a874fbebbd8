import type { DeployPrepareResponse, DeployResultRequest } from '../protocol/deploy-api.js';
import { OkesuError } from '../errors.js';
import { checkHostKey, type HostKeyPolicy } from './host-key-check.js';
import { readInstallResult, type InstallResult } from '../protocol/install-outcome.js';
import { parseProbe, platformRefusal, PROBE_COMMAND } from './probe.js';
import { shellQuote } from './shell-quote.js';
import { connectSsh, SshFailure, type SshAuth, type SshConnection } from './ssh-connection.js';
import type { SshTarget } from './target.js';

/** What a deploy needs from the CP (`src/deploy/deploy-cp-client.ts` over HTTPS; fakes in tests). */
export interface DeployCp {
  prepare(target: string, hostname: string): Promise<DeployPrepareResponse>;
  /** Reports the outcome; rejects with OKS_ERR_SSH_HOST_KEY_CHANGED when the CP's pin differs. */
  result(body: Omit<DeployResultRequest, 'deploy_id'> & { deploy_id?: string }): Promise<unknown>;
  /** True once the CP shows `hostname` online. */
  hostOnline(hostname: string): Promise<boolean>;
}

/** The steps of one target's deploy, in order. */
export type DeployPhase = 'connecting' | 'probing' | 'preparing' | 'uploading' | 'installing' | 'reporting' | 'waiting';

/** Why a target's deploy failed: the SSH failure kinds, and the later steps'. */
export type DeployFailureKind = SshFailure['kind'] | 'unsupported_platform' | 'no_systemd' | 'probe' | 'cp' | 'upload' | 'install' | 'wait';

/** One target's outcome. */
export interface DeployHostResult {
  target: string;
  ok: boolean;
  outcome?: InstallResult['outcome'];
  hostname?: string;
  version?: string;
  host_key?: string;
  /** With `--wait`: the CP showed the host online. */
  online?: boolean;
  error?: { kind: DeployFailureKind; message: string };
}

/** Options shared by every target of one `okesu deploy`. */
export interface DeployOptions {
  auth: SshAuth;
  /** The policy for a target's host key: `--known-hosts`, else the CP's pin (null: none yet). */
  hostKeyPolicy: (target: SshTarget) => HostKeyPolicy;
  init: 'systemd' | 'none';
  prefix: string;
  /** The local file uploaded and run as `okesu install` on the target. */
  executable: string;
  /** `--hostname` (one target only): register as this instead of what the target's `hostname` prints. */
  hostname?: string;
  /** Words passed on to `okesu install` after ours (`-- …`). */
  extraArgs: readonly string[];
  wait: boolean;
  waitTimeoutMs: number;
  connectTimeoutMs?: number;
  installTimeoutMs?: number;
  /** Polling pace of `--wait` (default 500 ms). */
  pollMs?: number;
}

class StepFailure extends Error {
  constructor(readonly kind: DeployFailureKind, message: string) {
    super(message);
  }
}

/**
 * Deploys okesu to one target: connect (host key checked before authenticating), probe OS/arch/init, ask the CP for a
 * bound single-use join token, upload the executable to a private temp dir, run `okesu install` there, remove the
 * upload, report to the CP, and with `wait` wait until the CP shows the host online. Never throws: every failure
 * becomes the result's `error`, so one host cannot stop the others.
 */
export async function deployHost(target: SshTarget, o: DeployOptions, cp: DeployCp, onPhase: (phase: DeployPhase) => void = () => undefined): Promise<DeployHostResult> {
  const policy = o.hostKeyPolicy(target);
  let seenKey: string | undefined;
  let hostname = o.hostname;
  let prepared: DeployPrepareResponse | undefined;
  let conn: SshConnection | undefined;
  let reported = false;
  const redact = (text: string): string => (prepared ? text.split(prepared.join_token).join('[join token]') : text);
  try {
    onPhase('connecting');
    conn = await connectSsh({
      target, auth: o.auth, timeoutMs: o.connectTimeoutMs,
      verifyHostKey: (fp) => {
        seenKey = fp;
        const verdict = checkHostKey(fp, policy);
        return verdict.ok ? undefined : { refusal: verdict.reason, changed: verdict.changed };
      },
    });
    onPhase('probing');
    const probed = await conn.exec(PROBE_COMMAND, { timeoutMs: 30_000, maxBytes: 4096, what: 'the platform probe' });
    const probe = tryStep('probe', () => parseProbe(probed.stdout, hostname !== undefined));
    hostname ??= probe.hostname;
    const refusal = platformRefusal(probe, o.init);
    if (refusal) throw new StepFailure(refusal.startsWith('unsupported') ? 'unsupported_platform' : 'no_systemd', refusal);

    onPhase('preparing');
    prepared = await cpStep(() => cp.prepare(target.text, hostname as string));
    // The pin may have appeared since the deploy started (another deploy of the same target): checked again.
    if (policy.kind === 'pin' && prepared.pinned_host_key !== null && prepared.pinned_host_key !== conn.hostKey) {
      const verdict = checkHostKey(conn.hostKey, { kind: 'pin', pinned: prepared.pinned_host_key });
      if (!verdict.ok) throw new StepFailure('host_key_changed', verdict.reason);
    }

    const installed = await uploadAndInstall(conn, o, prepared, hostname, onPhase, redact);
    onPhase('reporting');
    reported = true;
    await cpStep(() => cp.result({ deploy_id: prepared?.deploy_id, target: target.text, hostname: hostname as string, outcome: installed.outcome, host_key: conn?.hostKey ?? null }));
    const result: DeployHostResult = { target: target.text, ok: true, outcome: installed.outcome, hostname: installed.hostname, version: installed.version, host_key: conn.hostKey };
    if (o.wait) {
      onPhase('waiting');
      result.online = await waitOnline(cp, installed.hostname, o);
      if (!result.online) return { ...result, ok: false, error: { kind: 'wait', message: `${target.text}: ${installed.hostname} was installed but the CP did not show it online within ${Math.round(o.waitTimeoutMs / 1000)} s` } };
    }
    return result;
  } catch (err) {
    const kind: DeployFailureKind = err instanceof SshFailure || err instanceof StepFailure ? err.kind : 'ssh';
    const message = redact(err instanceof Error ? err.message : String(err));
    const failed: DeployHostResult = { target: target.text, ok: false, error: { kind, message: message.startsWith(target.text) ? message : `${target.text}: ${message}` }, ...(hostname !== undefined && { hostname }), ...(seenKey !== undefined && { host_key: seenKey }) };
    if (kind !== 'cp' && !reported) await reportFailure(cp, target, failed, prepared?.deploy_id);
    return failed;
  } finally {
    conn?.close();
  }
}

async function uploadAndInstall(
  conn: SshConnection, o: DeployOptions, prepared: DeployPrepareResponse, hostname: string, onPhase: (p: DeployPhase) => void, redact: (t: string) => string,
): Promise<InstallResult> {
  onPhase('uploading');
  // mktemp -d makes a 0700 directory: nobody else on the target can swap the executable before it runs.
  const made = await conn.exec('umask 077 && mktemp -d "${TMPDIR:-/tmp}/okesu-deploy.XXXXXXXX"', { timeoutMs: 30_000, maxBytes: 4096, what: 'mktemp -d' });
  const dir = made.stdout.trim();
  if (made.code !== 0 || !/^\/[A-Za-z0-9._/-]+$/.test(dir)) throw new StepFailure('upload', `cannot make a temp directory on the target: ${lastLines(made.stderr || made.stdout)}`);
  const remote = `${dir}/okesu`;
  try {
    try {
      await conn.upload(o.executable, remote, 0o700);
    } catch (err) {
      throw new StepFailure('upload', `uploading ${o.executable}: ${err instanceof Error ? err.message : String(err)}`);
    }
    onPhase('installing');
    const words = [remote, 'install', '--cp', prepared.cp_url, '--prefix', o.prefix, '--init', o.init, '--json',
      ...(o.hostname !== undefined ? ['--hostname', hostname] : []), ...o.extraArgs];
    // The join token goes in on stdin and into install's environment ($OKESU_JOIN_TOKEN), never on a command line
    // other users of the target could read in ps.
    const command = `IFS= read -r OKESU_JOIN_TOKEN && export OKESU_JOIN_TOKEN && exec ${words.map(shellQuote).join(' ')}`;
    const ran = await conn.exec(command, { input: `${prepared.join_token}\n`, timeoutMs: o.installTimeoutMs ?? 300_000, what: 'okesu install' });
    const outcome = readInstallResult(ran.stdout);
    if (ran.code !== 0 || !outcome) {
      const status = ran.code === null ? `ended by ${ran.signal ?? 'a signal'}` : `exited ${ran.code}`;
      throw new StepFailure('install', redact(`okesu install ${status}${outcome ? '' : ' without an outcome'}: ${lastLines(ran.stderr || ran.stdout)}`));
    }
    return outcome;
  } finally {
    await conn.exec(`rm -rf ${shellQuote(dir)}`, { timeoutMs: 30_000 }).catch(() => undefined);
  }
}

async function reportFailure(cp: DeployCp, target: SshTarget, failed: DeployHostResult, deployId: string | undefined): Promise<void> {
  try {
    await cp.result({
      ...(deployId !== undefined && { deploy_id: deployId }),
      target: target.text, hostname: failed.hostname ?? target.host, outcome: 'failed', host_key: failed.host_key ?? null,
      error: (failed.error?.message ?? '').slice(0, 4000),
    });
  } catch {
    // The CP answers a changed key with OKS_ERR_SSH_HOST_KEY_CHANGED (it audited the refusal); the failure stands as is.
  }
}

async function waitOnline(cp: DeployCp, hostname: string, o: DeployOptions): Promise<boolean> {
  const deadline = Date.now() + o.waitTimeoutMs;
  for (;;) {
    if (await cp.hostOnline(hostname).catch(() => false)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, o.pollMs ?? 500));
  }
}

function tryStep<T>(kind: DeployFailureKind, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new StepFailure(kind, err instanceof Error ? err.message : String(err));
  }
}

async function cpStep<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof OkesuError && err.code === 'OKS_ERR_SSH_HOST_KEY_CHANGED') throw new StepFailure('host_key_changed', err.message);
    throw new StepFailure('cp', `the CP: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The last few lines of a command's output (at most 600 characters), for an error sentence. */
function lastLines(text: string): string {
  const lines = text.trim().split('\n').slice(-5).join(' | ');
  return lines.length > 600 ? `…${lines.slice(-600)}` : lines || '(no output)';
}
