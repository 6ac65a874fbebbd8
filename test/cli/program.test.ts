import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import type { Command } from 'commander';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createProgram, runCli } from '../../src/cli/program.js';
import type { CliDeps } from '../../src/cli/program.js';
import type { OperatorClient, RunEventsPage } from '../../src/transport/operator-client.js';
import type { StreamOptions } from '../../src/transport/stream-client.js';
import type { RunEvent } from '../../src/protocol/event.js';
import { NOW, TOKEN, finding, host, runView, testDeps, tokenView } from './helpers.js';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
let configFile: string;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'okesu-cli-'));
  configFile = join(dir, 'admin.yaml');
  writeFileSync(configFile, `cp: https://127.0.0.1:8443\ntoken: ${TOKEN}\nca: "${CA.replace(/\n/g, '\\n')}"\n`);
});

/** A client whose every method fails unless the test provides it. */
function fakeClient(methods: Partial<OperatorClient>): OperatorClient {
  return new Proxy(methods as OperatorClient, {
    get: (target, key: string) => target[key as keyof OperatorClient] ?? (() => Promise.reject(new Error(`unexpected call: ${key}`))),
  });
}

async function cli(argv: string[], over: Partial<CliDeps> = {}): Promise<{ code: number; out: string; err: string; deps: ReturnType<typeof testDeps> }> {
  const deps = testDeps({ env: { OKESU_CONFIG: configFile }, ...over });
  const code = await runCli(argv, deps);
  return { code, out: deps.stdout.text(), err: deps.stderr.text(), deps };
}

describe('usage errors exit 2 with a message naming the problem', () => {
  it.each([
    [['tail', '--severity', 'urgent'], /--severity <level>.*'urgent' is invalid.*critical, high, medium, low, info/],
    [['findings', '--severity', 'bogus'], /--severity/],
    [['findings', '--category', 'disk'], /--category/],
    [['findings', '--since', '1x'], /--since <duration>.*expected a duration/],
    [['findings', '--limit', '0'], /--limit/],
    [['run', 'edr'], /--host/],
    [['run', 'edr', '--host', 'h', '--timeout', 'later'], /--timeout/],
    [['run', 'edr', '--host', 'h', '--input', 'novalue'], /--input.*key=value/],
    [['run', 'edr', '--host', 'h', '--dispatch', 'pigeon'], /--dispatch/],
    [['token', 'create'], /--join or --role/],
    [['token', 'create', '--join', '--role', 'admin'], /exclude/],
    [['token', 'create', '--role', 'viewer', '--uses', '2'], /join tokens only/],
    [['token', 'create', '--role', 'root'], /root/],
    [['token', 'create', '--join', '--ttl', 'soon'], /--ttl/],
    [['hosts', 'extra'], /too many arguments/],
    [['cp', 'serve', '--host-cert-ttl', '30m'], /--host-cert-ttl <dur>.*from 1h to 3650d, got 30m/],
    [['cp', 'serve', '--host-cert-ttl', 'soon'], /--host-cert-ttl <dur>.*expected a duration/],
    [['cp', 'serve', '--s3-endpoint', 'http://127.0.0.1:7480'], /--s3-endpoint and --s3-region go with --bucket/],
    [['cp', 'serve', '--bucket-scan', 'soon'], /--bucket-scan <dur>.*expected a duration/],
    [['nope'], /unknown command 'nope'/],
    [['token', 'revoke'], /missing required argument 'id'/],
  ])('okesu %j', async (argv, message) => {
    const { code, out, err } = await cli(argv);
    expect(code).toBe(2);
    expect(err).toMatch(message);
    expect(out).toBe('');
  });

  it('throws CommanderError with exitOverride and configureOutput set on the returned program', async () => {
    const errors: string[] = [];
    const program = createProgram(testDeps()).exitOverride().configureOutput({ writeErr: (s) => errors.push(s) });
    const tail = program.commands.find((c) => c.name() === 'tail') as Command;
    tail.configureOutput({ writeErr: (s) => errors.push(s) });
    const err = await program.parseAsync(['tail', '--severity', 'x'], { from: 'user' }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(CommanderError);
    expect((err as CommanderError).exitCode).toBe(2);
    expect(errors.join('')).toMatch(/--severity/);
  });
});

describe('help and version', () => {
  it('prints the version', async () => {
    expect(await cli(['--version'])).toMatchObject({ code: 0, out: '9.9.9\n' });
  });

  it('gives every command a description and help; every operator command takes --config', () => {
    const program = createProgram(testDeps());
    const walk = (cmd: Command): Command[] => [cmd, ...cmd.commands.flatMap(walk)];
    const commands = walk(program).filter((c) => c !== program);
    // The agent authoring tools and `orchestrate validate` work on this machine's files, with no CP.
    const orchestrate = program.commands.find((c) => c.name() === 'orchestrate') as Command;
    // So do `release keygen` and `release sign`: a release key stays on the release manager's machine.
    const release = program.commands.find((c) => c.name() === 'release') as Command;
    const local = new Set([
      ...walk(program.commands.find((c) => c.name() === 'agents') as Command), orchestrate.commands.find((c) => c.name() === 'validate') as Command,
      ...release.commands.filter((c) => ['keygen', 'sign'].includes(c.name())),
    ]);
    expect(commands.map((c) => c.name())).toEqual(expect.arrayContaining(['hosts', 'rm', 'run', 'findings', 'summary', 'tail', 'token', 'create', 'list', 'revoke', 'audit']));
    for (const cmd of commands) {
      expect(cmd.description(), cmd.name()).not.toBe('');
      // The server roles (cp serve, daemon, demo), the CP's state-dir tools (cp backup, cp restore, cp cluster-key), the host's own
      // install and uninstall, and `completion` (it prints a script) take no operator context.
      if (['serve', 'backup', 'restore', 'cluster-key', 'daemon', 'demo', 'supervise', 'install', 'uninstall', 'completion'].includes(cmd.name()) || local.has(cmd)) continue;
      if (cmd.commands.length === 0 || cmd.name() === 'hosts' || cmd.name() === 'findings') {
        expect(cmd.options.map((o) => o.long), cmd.name()).toContain('--config');
      }
    }
  });

  it('prints command help on stdout with exit 0', async () => {
    const { code, out } = await cli(['tail', '--help']);
    expect(code).toBe(0);
    expect(out).toContain('--since <duration>');
    expect(out).toContain('--json');
  });
});

describe('commands against a fake client', () => {
  it('token create --join prints only the secret', async () => {
    const createToken = vi.fn(async () => ({ token: 'okj_secret', view: tokenView() }));
    const { code, out, err } = await cli(['token', 'create', '--join', '--ttl', '2h', '--uses', '3'], { createClient: () => fakeClient({ createToken }) });
    expect({ code, out, err }).toEqual({ code: 0, out: 'okj_secret\n', err: '' });
    expect(createToken).toHaveBeenCalledWith({ kind: 'join', name: '', ttl_ms: 7_200_000, uses: 3 });
  });

  it('token create --role prints only the secret', async () => {
    const createToken = vi.fn(async () => ({ token: 'okt_secret', view: tokenView({ kind: 'operator', role: 'viewer' }) }));
    const { out } = await cli(['token', 'create', '--role', 'viewer', '--name', 'grafana'], { createClient: () => fakeClient({ createToken }) });
    expect(out).toBe('okt_secret\n');
    expect(createToken).toHaveBeenCalledWith({ kind: 'operator', role: 'viewer', name: 'grafana' });
  });

  it('token create --role --ttl sends the lifetime of an operator token', async () => {
    const createToken = vi.fn(async () => ({ token: 'okt_secret', view: tokenView({ kind: 'operator', role: 'viewer' }) }));
    const { code, out } = await cli(['token', 'create', '--role', 'viewer', '--ttl', '30d'], { createClient: () => fakeClient({ createToken }) });
    expect({ code, out }).toEqual({ code: 0, out: 'okt_secret\n' });
    expect(createToken).toHaveBeenCalledWith({ kind: 'operator', role: 'viewer', name: '', ttl_ms: 30 * 86_400_000 });
  });

  it('token list shows when each token expires (never for none); --json carries expires_at', async () => {
    const tokens = [
      tokenView({ id: 'op1', kind: 'operator', role: 'viewer', uses_left: null, expires_at: NOW + 30 * 86_400_000 }),
      tokenView({ id: 'op2', kind: 'operator', role: 'admin', uses_left: null, expires_at: null }),
    ];
    const listTokens = vi.fn(async () => tokens);
    const table = await cli(['token', 'list'], { createClient: () => fakeClient({ listTokens }) });
    const lines = table.out.split('\n');
    expect(lines[0]).toMatch(/EXPIRES/);
    expect(lines.find((l) => l.startsWith('op1'))).toContain('2026-12-24T17:23:19Z');
    expect(lines.find((l) => l.startsWith('op2'))).toMatch(/\bnever\b/);
    const json = await cli(['token', 'list', '--json'], { createClient: () => fakeClient({ listTokens }) });
    expect((JSON.parse(json.out) as { expires_at: number | null }[]).map((t) => t.expires_at)).toEqual([NOW + 30 * 86_400_000, null]);
  });

  it('hosts prints the fleet table; --json prints the HostView array', async () => {
    const cert = { cert_issued_at: NOW - 300 * 86_400_000, cert_expires_at: NOW + 65 * 86_400_000 };
    const hosts = vi.fn(async () => [host({ labels: { env: 'prod' }, ...cert })]);
    const table = await cli(['hosts'], { createClient: () => fakeClient({ hosts }) });
    expect(table.out.split('\n')[1]).toBe('● online  web-01  tunnel        -  0.1.0    -        3s ago            0  ⚠ 65d  env=prod');
    const json = await cli(['hosts', '--json'], { createClient: () => fakeClient({ hosts }) });
    expect(JSON.parse(json.out)).toEqual([host({ labels: { env: 'prod' }, ...cert })]);
    expect(JSON.parse(json.out)[0].cert_expires_at).toBe(NOW + 65 * 86_400_000);
  });

  it('hosts rm takes its own --config after the subcommand', async () => {
    const removeHost = vi.fn(async (hostname: string) => ({ hostname, revoked: true as const }));
    const { code, out } = await cli(['hosts', 'rm', 'web-01', '--config', configFile], { env: {}, createClient: () => fakeClient({ removeHost }) });
    expect(code).toBe(0);
    expect(out).toBe('removed web-01\n');
  });

  it('findings summary applies its own filters', async () => {
    const findingsSummary = vi.fn(async () => ({
      total: 3, groups: 2, by_severity: { HIGH: 3 }, by_category: { process: 3 }, by_agent: { edr: 3 },
      by_status: { open: 2, resolved: 1 }, open_by_severity: { CRITICAL: 0, HIGH: 2, MEDIUM: 0, LOW: 0, INFO: 0 },
    }));
    const { code, out } = await cli(['findings', 'summary', '--severity', 'high'], { createClient: () => fakeClient({ findingsSummary }) });
    expect(code).toBe(0);
    expect(findingsSummary).toHaveBeenCalledWith({ severity: 'HIGH' });
    expect(out).toContain('3 findings in 2 groups, 2 open');
    expect(out).toMatch(/SEVERITY\s+COUNT\s+OPEN\nCRITICAL\s+0\s+0\nHIGH\s+3\s+2\nMEDIUM\s+0\s+0\nLOW\s+0\s+0\nINFO\s+0\s+0/);
  });

  it('findings --since sends since_ms relative to now', async () => {
    const findings = vi.fn(async () => ({ findings: [finding()], cursor: 9 }));
    const { out } = await cli(['findings', '--since', '1h', '--limit', '5', '--agent', 'edr'], { createClient: () => fakeClient({ findings }) });
    expect(findings).toHaveBeenCalledWith({ agent: 'edr', since_ms: NOW - 3_600_000, limit: 5 });
    expect(out).toContain('2026-11-24T17:23:19Z  HIGH      web-01  edr    process   Reverse shell from nginx');
  });

  it('reports a config problem as OKS_ERR_CONFIG with exit 1', async () => {
    const { code, err } = await cli(['hosts'], { env: { OKESU_CONFIG: join(dir, 'missing.yaml') } });
    expect(code).toBe(1);
    expect(err).toMatch(/^okesu: OKS_ERR_CONFIG: .*missing\.yaml/);
  });
});

describe('run', () => {
  const ev = (seq: number, body: Record<string, unknown>): RunEvent =>
    ({ ts: NOW, host: 'web-01', agent: 'edr', run_id: runView().run_id, seq, ...body }) as RunEvent;

  function runClient(pages: RunEventsPage[]) {
    const createRun = vi.fn(async () => runView());
    const runEvents = vi.fn(async () => pages.shift() as RunEventsPage);
    return { createRun, runEvents, client: fakeClient({ createRun, runEvents }) };
  }

  it('prints the run id; sends the agent file and typed inputs', async () => {
    const file = join(dir, 'disk.md');
    writeFileSync(file, '---\nname: disk-check\n---\nCheck the disks.\n');
    const { createRun, client } = runClient([]);
    const { code, out } = await cli(['run', file, '--host', 'web-01', '--input', 'n=5', '--input', 'on=true', '--input', 's=x', '--timeout', '10m'], { createClient: () => client });
    expect(code).toBe(0);
    expect(out).toBe(`${runView().run_id}\n`);
    expect(createRun).toHaveBeenCalledWith({
      agent: 'disk-check', host: 'web-01', definition: '---\nname: disk-check\n---\nCheck the disks.\n', inputs: { n: 5, on: true, s: 'x' }, timeout_ms: 600_000, dispatch: 'auto',
    });
  });

  it('--wait follows the long poll until the run ends and exits 0 when it completed', async () => {
    const { runEvents, client } = runClient([
      { run: runView({ status: 'running' }), events: [ev(0, { type: 'run_start' }), ev(1, { type: 'finding', severity: 'HIGH', title: 'Odd' })], next: 1 },
      { run: runView({ status: 'completed', findings: 1 }), events: [ev(2, { type: 'run_end', status: 'completed' })], next: 2 },
    ]);
    const { code, out, err } = await cli(['run', 'edr', '--host', 'web-01', '--wait'], { createClient: () => client });
    expect(code).toBe(0);
    expect(runEvents.mock.calls.map((c) => c.slice(1))).toEqual([[undefined, 25_000], [1, 25_000]]);
    expect(out.split('\n').filter(Boolean).map((l) => l.slice(10))).toEqual(['   0  run_start', '   1  finding           HIGH Odd', '   2  run_end           completed']);
    expect(err).toContain('run r_01JD0000000000000000000000 completed');
  });

  it('--wait --json prints one event per line and exits 3 when the run failed', async () => {
    const { client } = runClient([{ run: runView({ status: 'failed', error: 'boom' }), events: [ev(0, { type: 'run_end', status: 'failed' })], next: 0 }]);
    const { code, out, err } = await cli(['run', 'edr', '--host', 'web-01', '--wait', '--json'], { createClient: () => client });
    expect(code).toBe(3);
    expect(out.trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([ev(0, { type: 'run_end', status: 'failed' })]);
    expect(err).toBe('');
  });
});

describe('tail', () => {
  it('replays --since history, then streams from its cursor, filtering and never repeating; --json keeps stdout pure', async () => {
    const findings = vi.fn(async () => ({ findings: [finding({ id: 1 }), finding({ id: 2 })], cursor: 77 }));
    let opts: StreamOptions | undefined;
    const stop = new AbortController();
    const openStream = vi.fn((_config: unknown, o: StreamOptions) => {
      opts = o;
      queueMicrotask(() => {
        o.onState?.('open');
        o.onMessage({ type: 'ready', cursor: 77 });
        o.onMessage({ type: 'finding', cursor: 78, finding: finding({ id: 2 }) }); // already printed from history
        o.onMessage({ type: 'finding', cursor: 79, finding: finding({ id: 3, severity: 'LOW' }) }); // below --severity
        o.onMessage({ type: 'finding', cursor: 80, finding: finding({ id: 4, severity: 'CRITICAL' }) });
        o.onState?.('connecting', 'closed by the CP (1006); retrying in 250 ms');
        stop.abort();
      });
      return { close: vi.fn(), cursor: () => 80 };
    });
    const { code, out, err } = await cli(['tail', '--since', '1h', '--severity', 'high', '--json'], {
      createClient: () => fakeClient({ findings }),
      openStream,
      signal: stop.signal,
    });
    expect(code).toBe(0);
    expect(findings).toHaveBeenCalledWith({ severity: 'HIGH', since_ms: NOW - 3_600_000, after_id: 0, limit: 1000 });
    expect(findings).toHaveBeenCalledTimes(1); // a short page ends the history
    expect(opts).toMatchObject({ after: 77, kinds: ['finding'], filter: { severity: 'HIGH' } });
    expect(out.trim().split('\n').map((l) => (JSON.parse(l) as { id: number }).id)).toEqual([1, 2, 4]);
    expect(err).toContain('stream lost');
  });

  it('streams from the head without --since and exits 1 on a fatal stream error', async () => {
    const openStream = vi.fn((_config: unknown, o: StreamOptions) => {
      queueMicrotask(() => o.onState?.('closed', 'OKS_ERR_TOKEN_REVOKED: token was revoked'));
      return { close: vi.fn(), cursor: () => undefined };
    });
    const { code, out, err } = await cli(['tail'], { createClient: () => fakeClient({}), openStream });
    expect(code).toBe(1);
    expect(openStream.mock.calls[0]?.[1]).not.toHaveProperty('after');
    expect(out).toBe('');
    expect(err).toContain('OKS_ERR_TOKEN_REVOKED');
  });
});
