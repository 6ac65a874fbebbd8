import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostView } from '../../src/protocol/api.js';
import { okesuJson, runOkesu, startCp, stop, tempDir, waitFor, type CpProcess } from './harness.js';
import { startSshd, type Sshd } from '../support/sshd.js';

// The real path: `okesu deploy` from the operator's side, a real sshd, the real `okesu install --init none` on the
// "target" (this machine, under a temp prefix), the daimon's first heartbeat at a real CP.

/** What is deployed: the single executable, as an operator ships it (`npm run build`, part of `npm test`, makes it). */
const EXECUTABLE = resolve(import.meta.dirname, '../../dist/okesu-linux-x64');
const WAIT = ['--wait', '--wait-timeout', '60s'];

let cp: CpProcess;
let sshd: Sshd;
let root: string;

beforeAll(async () => {
  root = tempDir('deploy-root');
  [cp, sshd] = await Promise.all([startCp(tempDir('deploy-cp')), startSshd()]);
}, 30_000);

afterAll(async () => {
  // The daimon runs under `okesu supervise`, detached: uninstall stops it (and kill it if uninstall could not).
  const pidFile = join(root, 'var/lib/okesu/supervise.pid');
  await runOkesu(['uninstall', '--prefix', root, '--purge']).catch(() => undefined);
  if (existsSync(pidFile)) {
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM');
    } catch {
      // already gone
    }
  }
  await Promise.all([stop(cp?.proc), sshd?.stop()]);
});

interface DeployAnswer {
  results: Array<{ target: string; ok: boolean; outcome?: string; hostname?: string; online?: boolean; host_key?: string; error?: { kind: string; message: string } }>;
  summary: { total: number; installed: number; unchanged: number; failed: number };
}

async function deploy(installFlags: string[] = []): Promise<DeployAnswer> {
  const target = `root@127.0.0.1:${sshd.port}`;
  const r = await runOkesu(['deploy', target, '--identity', sshd.userKey.file, '--init', 'none', '--prefix', root, '--executable', EXECUTABLE,
    '--hostname', 'deploy-e2e', ...WAIT, '--json', '--', ...installFlags], { ...cp.env, USER: 'root' });
  if (r.code !== 0) throw new Error(`okesu deploy exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}\nsshd: ${sshd.log().slice(-2000)}`);
  return JSON.parse(r.stdout) as DeployAnswer;
}

describe('okesu deploy of the single executable through a real sshd', () => {
  it('installs under --prefix with --init none, the host heartbeats, a redeploy is unchanged', async () => {
    const first = await deploy(['--label', 'via=deploy']);
    expect(first.results[0]).toMatchObject({ ok: true, outcome: 'installed', hostname: 'deploy-e2e', host_key: sshd.hostFingerprint(), online: true });
    expect(existsSync(join(root, 'usr/local/bin/okesu'))).toBe(true);
    const host = await waitFor('the deployed host registered', async () =>
      (await okesuJson<HostView[]>(['hosts'], cp.env)).find((h) => h.hostname === 'deploy-e2e' && h.state === 'online'));
    expect(host.labels).toMatchObject({ via: 'deploy' });
    const pid = readFileSync(join(root, 'var/lib/okesu/supervise.pid'), 'utf8');

    const again = await deploy(['--label', 'via=deploy']);
    expect(again.results[0]).toMatchObject({ ok: true, outcome: 'unchanged', online: true });
    expect(again.summary).toMatchObject({ total: 1, unchanged: 1, failed: 0 });
    // Same identity, same flags: no second registration, and the supervisor was not restarted.
    expect(readFileSync(join(root, 'var/lib/okesu/supervise.pid'), 'utf8')).toBe(pid);
    expect((await okesuJson<HostView[]>(['hosts'], cp.env)).filter((h) => h.hostname === 'deploy-e2e')).toHaveLength(1);
    const audit = (await okesuJson<Array<{ action: string }>>(['audit'], cp.env)).map((e) => e.action);
    expect(audit).toEqual(expect.arrayContaining(['deploy.installed', 'deploy.unchanged', 'host.register']));
  }, 120_000);
});
