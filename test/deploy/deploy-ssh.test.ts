import { existsSync, readFileSync, writeFileSync, chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { testDeps } from '../cli/helpers.js';
import { startCp, type CpHarness } from '../cp/cp-harness.js';
import { makeKeyPair, startSshd, type Sshd } from '../support/sshd.js';

// `okesu deploy` against a real sshd on loopback, with a stand-in for `okesu install` (a shell script that records its
// arguments and answers like `install --json`): the SSH, host-key, CP and reporting paths, without installing a daimon
// (test/e2e/deploy.test.ts installs the real one).

let cp: CpHarness;
let sshd: Sshd;
let other: Sshd;
let dir: string;
let fake: string;
let argsLog: string;

const FAKE_INSTALL = `#!/bin/sh
# A stand-in for okesu install --json: records where it ran and its arguments; installed, then unchanged.
printf '%s %s token=%s\\n' "$0" "$*" "$OKESU_JOIN_TOKEN" >> ARGS_LOG
[ "$1" = install ] || exit 64
prefix=/; host=$(hostname)
while [ $# -gt 0 ]; do case "$1" in --prefix) prefix=$2; shift;; --hostname) host=$2; shift;; esac; shift; done
if [ -e "$prefix/installed" ]; then outcome=unchanged; else mkdir -p "$prefix" && : > "$prefix/installed"; outcome=installed; fi
echo 'a log line before the outcome'
printf '{"outcome":"%s","hostname":"%s","version":"0.1.0","state_dir":"%s/var/lib/okesu"}\\n' "$outcome" "$host" "$prefix"
`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'okesu-deploy-ssh-'));
  argsLog = join(dir, 'args.log');
  fake = join(dir, 'fake-okesu');
  writeFileSync(fake, FAKE_INSTALL.replace('ARGS_LOG', argsLog));
  chmodSync(fake, 0o755);
  [cp, sshd, other] = await Promise.all([startCp(), startSshd(), startSshd()]);
}, 30_000);

afterAll(async () => {
  await Promise.all([cp?.close(), sshd?.stop(), other?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

async function deploy(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const deps = testDeps({ env: { OKESU_CONFIG: join(cp.stateDir, 'admin.yaml'), USER: 'root', HOME: dir } });
  const code = await runCli(['deploy', ...args], deps);
  return { code, out: deps.stdout.text(), err: deps.stderr.text() };
}

const target = (s: Sshd): string => `root@127.0.0.1:${s.port}`;
const ranLines = (): string[] => (existsSync(argsLog) ? readFileSync(argsLog, 'utf8').trim().split('\n') : []);

describe('okesu deploy over a real sshd', () => {
  it('deploys (token bound and single-use, upload removed, key pinned, audited), and a redeploy is unchanged', async () => {
    const prefix = join(dir, 'root-a');
    const first = await deploy([target(sshd), '--identity', sshd.userKey.file, '--init', 'none', '--prefix', prefix, '--hostname', 'web-01', '--executable', fake, '--', '--label', 'env=test']);
    expect(first.err).not.toContain('OKS_ERR');
    expect(first.code).toBe(0);
    expect(first.out).toContain(`✓ ${target(sshd)}  web-01  installed 0.1.0`);
    expect(first.out).toContain('deployed 1 of 1: 1 installed');

    const [ran] = ranLines();
    const [program, ...words] = (ran ?? '').split(' ');
    expect(program).toMatch(/\/okesu-deploy\.[A-Za-z0-9]+\/okesu$/);
    expect(existsSync(program as string)).toBe(false); // the uploaded copy and its temp dir are gone
    expect(words.slice(0, 2)).toEqual(['install', '--cp']);
    expect(words).toContain(cp.url);
    expect(words.join(' ')).toContain(`--prefix ${prefix} --init none --json --hostname web-01 --label env=test`);
    // The token came through the environment, not the command line.
    expect(words).not.toContain('--token');
    const token = (words.find((w) => w.startsWith('token=')) ?? '').slice('token='.length);
    expect(token).toMatch(/^okj_/);
    // The token is bound to web-01, and revoked once the deploy reported (the stand-in did not use it).
    expect(errorOf(await cp.register('db-01', token))).toMatch(/OKS_ERR_TOKEN_(INVALID|REVOKED)/);

    const keys = await deploy(['keys', '--json']);
    expect(JSON.parse(keys.out)).toEqual([expect.objectContaining({ target: target(sshd), fingerprint: sshd.hostFingerprint() })]);
    const audit = (await cp.admin.audit(50)).map((e) => `${e.action} ${e.target}`);
    expect(audit).toEqual(expect.arrayContaining([`deploy.prepare ${target(sshd)}`, `deploy.installed ${target(sshd)}`]));

    const again = await deploy([target(sshd), '--identity', sshd.userKey.file, '--init', 'none', '--prefix', prefix, '--hostname', 'web-01', '--executable', fake, '--json']);
    expect(again.code).toBe(0);
    const answer = JSON.parse(again.out) as { results: Array<{ outcome: string; host_key: string }>; summary: { unchanged: number } };
    expect(answer.results[0]).toMatchObject({ outcome: 'unchanged', host_key: sshd.hostFingerprint() });
    expect(answer.summary.unchanged).toBe(1);
  });

  it('refuses a changed host key before authenticating or uploading; forget-key accepts the new one', async () => {
    await deploy([target(sshd), '--identity', sshd.userKey.file, '--init', 'none', '--prefix', join(dir, 'root-b'), '--executable', fake]);
    const pinned = sshd.hostFingerprint();
    await sshd.restart({ newHostKey: true });
    const runsBefore = ranLines().length;
    const logBefore = sshd.log().length;

    const refused = await deploy([target(sshd), '--identity', sshd.userKey.file, '--init', 'none', '--prefix', join(dir, 'root-b'), '--executable', fake]);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain(`✗ ${target(sshd)}: host key changed: the host presents ${sshd.hostFingerprint()}, the CP pinned ${pinned}`);
    expect(refused.out).toContain('(host key changed 1)');
    expect(ranLines().length).toBe(runsBefore);
    // Refused before authentication: sshd never saw the user key.
    expect(sshd.log().slice(logBefore)).not.toContain('Accepted publickey');
    expect((await cp.admin.audit(20)).map((e) => e.action)).toContain('deploy.refused');

    const forgot = await deploy(['forget-key', target(sshd)]);
    expect(forgot.out).toContain(`forgot ${pinned} for ${target(sshd)}`);
    const after = await deploy([target(sshd), '--identity', sshd.userKey.file, '--init', 'none', '--prefix', join(dir, 'root-b'), '--executable', fake]);
    expect(after.code).toBe(0);
    expect(JSON.parse((await deploy(['keys', '--json'])).out)).toEqual([expect.objectContaining({ target: target(sshd), fingerprint: sshd.hostFingerprint() })]);
  });

  it('reports a refused user key and a closed port per host while another host deploys; exit code 1', async () => {
    const closed = await import('node:net').then(({ createServer }) => new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as { port: number };
        srv.close(() => resolve(port));
      });
    }));
    // `other` authorizes its own user key, not sshd's: the deploy's key is refused there.
    const r = await deploy([target(sshd), target(other), `root@127.0.0.1:${closed}`, '--identity', sshd.userKey.file, '--init', 'none', '--prefix', join(dir, 'root-c'), '--executable', fake]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(new RegExp(`✓ ${target(sshd)}  \\S+  installed`));
    expect(r.out).toContain(`✗ ${target(other)}: auth refused: the host did not accept the key ${sshd.userKey.file} for user root`);
    expect(r.out).toContain(`✗ root@127.0.0.1:${closed}: port closed: connection refused on port ${closed}`);
    expect(r.out).toContain('deployed 1 of 3');
    expect(r.out).toMatch(/auth refused 1.*port closed 1|port closed 1.*auth refused 1/);
    // Failures before a preparation are audited too.
    const failed = (await cp.admin.audit(50)).filter((e) => e.action === 'deploy.failed').map((e) => e.target);
    expect(failed).toEqual(expect.arrayContaining([target(other), `root@127.0.0.1:${closed}`]));
  });

  it('checks --known-hosts instead of the pin when given', async () => {
    const known = join(dir, 'known_hosts');
    const [type, blob] = sshd.hostKey.publicKey.split(' ');
    writeFileSync(known, `[127.0.0.1]:${sshd.port} ${type} ${blob}\n`);
    const ok = await deploy([target(sshd), '--identity', sshd.userKey.file, '--known-hosts', known, '--init', 'none', '--prefix', join(dir, 'root-d'), '--executable', fake]);
    expect(ok.code).toBe(0);
    const [otherType, otherBlob] = makeKeyPair(join(dir, 'unrelated')).publicKey.split(' ');
    writeFileSync(known, `[127.0.0.1]:${sshd.port} ${otherType} ${otherBlob}\n`);
    const refused = await deploy([target(sshd), '--identity', sshd.userKey.file, '--known-hosts', known, '--init', 'none', '--prefix', join(dir, 'root-d'), '--executable', fake]);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain(`host key changed: the host presents ${sshd.hostFingerprint()}, ${known} lists`);
  });

  it('refuses a host without systemd unless --init none (this machine is the target: with systemd, it goes past the check)', async () => {
    const r = await deploy([target(sshd), '--identity', sshd.userKey.file, '--prefix', join(dir, 'root-e'), '--executable', fake]);
    if (existsSync('/run/systemd/system')) {
      expect(r.out).not.toContain('no systemd on the host');
      return;
    }
    expect(r.code).toBe(1);
    expect(r.out).toContain('no systemd on the host');
    expect(r.out).toContain('--init none');
  });

  it('--wait reports a host the CP never shows online (the stand-in registers nothing)', async () => {
    const r = await deploy([target(sshd), '--identity', sshd.userKey.file, '--init', 'none', '--prefix', join(dir, 'root-f'), '--hostname', 'never-online', '--executable', fake, '--wait', '--wait-timeout', '1s']);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`✗ ${target(sshd)}: never-online was installed but the CP did not show it online within 1 s`);
    expect(r.out).toContain('(wait 1)');
  });

  it('refuses bad flags as usage errors before connecting anywhere', async () => {
    expect((await deploy(['root@a:22', 'root@b:22', '--hostname', 'x'])).code).toBe(2);
    expect((await deploy(['root@a b'])).code).toBe(2);
    const noKey = await deploy([target(sshd), '--identity', join(dir, 'missing-key'), '--executable', fake]);
    expect(noKey.code).toBe(1);
    expect(noKey.err).toContain('missing-key');
  });
});

function errorOf(answer: { body: unknown }): string {
  return ((answer.body as { error?: { code?: string } }).error?.code) ?? '';
}
