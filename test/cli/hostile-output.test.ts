import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RawData } from 'ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import type { AuditEntry, HostView, RunView, TokenView } from '../../src/protocol/api.js';
import type { StoredFinding } from '../../src/protocol/finding.js';
import type { OrchestrationRunView } from '../../src/protocol/orchestration-api.js';
import { findingRecord, hello, record, startCp, waitFor, type CpHarness, type TestSocket } from '../cp/cp-harness.js';
import { expectTerminalSafe, HOSTILE, HOSTILE_SHORT } from './hostile-text.js';
import { testDeps } from './helpers.js';

// Every human command against a real CP (real TLS, real SQLite) whose data a hostile host and a hostile operator
// filled: no control character, C1 or bidi control reaches the terminal; --json gives back the exact strings.

const SPEC = `name: hostile-flow
steps:
  - id: scan
    agent: edr
    node: web-01
  - id: contain
    agent: edr
    node: web-01
    approval: required
    prompt: "contain because {{scan.result.note}}"
`;

describe('okesu human output against a real CP with hostile data', () => {
  let h: CpHarness;
  let tunnel: TestSocket;
  let dir: string;
  let hostileConfig: string;

  beforeAll(async () => {
    h = await startCp();
    dir = mkdtempSync(join(tmpdir(), 'okesu-hostile-'));
    // A host whose facts and labels carry escapes; every run it gets reports hostile events and a hostile result, and
    // fails with a hostile error when its prompt says so.
    tunnel = await h.connectHost(await h.registerHost('web-01'), { hello: false });
    tunnel.send(hello({ version: HOSTILE_SHORT, os: HOSTILE_SHORT, arch: HOSTILE_SHORT, labels: { note: HOSTILE } }));
    tunnel.ws.on('message', (data: RawData) => {
      const frame = JSON.parse(String(data)) as { type: string; envelope?: { run_id: string; agent: string; prompt?: string } };
      if (frame.type !== 'dispatch' || !frame.envelope) return;
      const { run_id: id, agent } = frame.envelope;
      const fail = frame.envelope.prompt === 'fail';
      tunnel.send({ type: 'dispatch_ack', run_id: id, accepted: true });
      tunnel.send({
        type: 'events',
        records: [
          record(id, 0, { type: 'run_start' }, agent),
          findingRecord(id, 1, { title: HOSTILE, resource: HOSTILE, evidence: [HOSTILE], dedup_key: `k-${id}` }),
          record(id, 2, { type: 'text', text: HOSTILE }, agent),
          record(id, 3, { type: 'orchestration_result', attributes: { note: HOSTILE } }, agent),
          record(id, 4, fail ? { type: 'run_end', status: 'failed', error: HOSTILE } : { type: 'run_end', status: 'completed' }, agent),
        ],
      });
    });
    await waitFor(async () => (await h.admin.hosts()).every((v) => v.connected), 5000, 'web-01 up');
    // Another operator whose token name is hostile: it shows in token list, whoami and as the audit actor.
    const created = await h.admin.createToken({ kind: 'operator', role: 'admin', name: HOSTILE });
    hostileConfig = join(dir, 'hostile.yaml');
    writeFileSync(hostileConfig, readFileSync(join(h.stateDir, 'admin.yaml'), 'utf8').replace(/^token: .*$/m, `token: ${created.token}`));
  });
  afterAll(() => h.close());

  async function okesu(argv: string[], opts: { config?: string; signal?: AbortSignal; until?: (out: string) => boolean } = {}) {
    const abort = new AbortController();
    const deps = testDeps({ env: { OKESU_CONFIG: opts.config ?? join(h.stateDir, 'admin.yaml') }, now: Date.now, signal: opts.signal ?? abort.signal });
    const done = runCli(argv, deps);
    if (opts.until) {
      const until = opts.until;
      await vi.waitFor(() => expect(until(deps.stdout.text())).toBe(true), { timeout: 15_000 });
      abort.abort();
    }
    const code = await done;
    return { code, out: deps.stdout.text(), err: deps.stderr.text() };
  }

  /** Runs a command in human mode: nothing unsafe on either stream, and the hostile text is shown (escaped). */
  async function human(argv: string[], opts: Parameters<typeof okesu>[1] & { code?: number } = {}) {
    const r = await okesu(argv, opts);
    expect(r.code, `okesu ${argv.join(' ')}: ${r.err}`).toBe(opts.code ?? 0);
    expectTerminalSafe(r.out, `stdout of okesu ${argv.join(' ')}`);
    expectTerminalSafe(r.err, `stderr of okesu ${argv.join(' ')}`, { tab: true });
    return r;
  }

  /** Runs a command with --json: exact JSON, and still nothing raw a terminal would act on. */
  async function json<T>(argv: string[], opts: Parameters<typeof okesu>[1] = {}): Promise<T> {
    const r = await okesu([...argv, '--json'], opts);
    expect(r.code, r.err).toBe(0);
    expectTerminalSafe(r.out, `stdout of okesu ${argv.join(' ')} --json`);
    return JSON.parse(r.out) as T;
  }

  it('run --wait, runs, runs show, findings, findings summary and tail', async () => {
    const run = await human(['run', 'edr', '--host', 'web-01', '--prompt', 'fail', '--wait'], { code: 3 });
    expect(run.out).toContain('\\x1b]0;pwned\\x07');
    expect(run.err).toContain('error: A\\x1b]0;pwned');

    const runs = await human(['runs']);
    expect(runs.out).toContain('\\x1b]0;pwned');
    const runId = (await json<RunView[]>(['runs']))[0]?.run_id as string;
    expect((await json<RunView>(['runs', 'show', runId])).error).toBe(HOSTILE);
    expect((await human(['runs', 'show', runId])).out).toContain('\\u202e');

    const findings = await human(['findings']);
    expect(findings.out).toMatch(/A\\x1b\]0;pwned\\x07B\\x1b\[2JC/);
    expect((await json<StoredFinding[]>(['findings'])).map((f) => [f.title, f.resource, f.evidence])).toContainEqual([HOSTILE.trim(), HOSTILE, [HOSTILE]]);
    await human(['findings', 'summary']);

    const tail = await human(['tail', '--since', '1h'], { until: (out) => out.includes('pwned') });
    expect(tail.out).toContain('\\x9b31m');
    const tailJson = await okesu(['tail', '--since', '1h', '--json'], { until: (out) => out.includes('pwned') });
    expectTerminalSafe(tailJson.out, 'stdout of okesu tail --json');
    expect((JSON.parse(tailJson.out.trim().split('\n')[0] as string) as StoredFinding).resource).toBe(HOSTILE);
  }, 60_000);

  it('hosts, hosts label, token list, whoami and audit', async () => {
    const hosts = await human(['hosts']);
    expect(hosts.out).toContain('note=A\\x1b]0;pwned');
    const view = (await json<HostView[]>(['hosts']))[0] as HostView;
    expect([view.version, view.os, view.labels.note]).toEqual([HOSTILE_SHORT, HOSTILE_SHORT, HOSTILE]);

    // The hostile operator labels the host: its name is the audit actor, the label value the audit detail.
    const label = await human(['hosts', 'label', 'web-01', `why=${HOSTILE}`], { config: hostileConfig });
    expect(label.out).toContain('why=A\\x1b]0;pwned');
    const tokens = await human(['token', 'list']);
    expect(tokens.out).toContain('A\\x1b]0;pwned');
    expect((await json<TokenView[]>(['token', 'list'])).map((t) => t.name)).toContain(HOSTILE);
    expect((await human(['whoami'], { config: hostileConfig })).out).toMatch(/^A\\x1b\]0;pwned.* \(admin\) at https:/);
    expect((await json<{ name: string }>(['whoami'], { config: hostileConfig })).name).toBe(HOSTILE);

    const audit = await human(['audit']);
    expect(audit.out).toContain('\\x1b[2J');
    const entries = await json<AuditEntry[]>(['audit']);
    expect(entries.find((e) => e.action === 'host.labels')).toMatchObject({ actor: HOSTILE, detail: { set: { why: HOSTILE } } });
  }, 60_000);

  it('orchestrate run --wait, show and runs, with a hostile result, prompt and rejection reason', async () => {
    const file = join(dir, 'hostile-flow.yaml');
    writeFileSync(file, SPEC);
    expect((await human(['orchestrate', 'apply', file])).code).toBe(0);

    const abort = new AbortController();
    const deps = testDeps({ env: { OKESU_CONFIG: join(h.stateDir, 'admin.yaml') }, now: Date.now, signal: abort.signal });
    const waiting = runCli(['orchestrate', 'run', 'hostile-flow', '--wait'], deps);
    await vi.waitFor(() => expect(deps.stderr.text()).toContain('waits for approval of step contain'), { timeout: 15_000 });
    const runId = /run (\S+) waits for approval/.exec(deps.stderr.text())?.[1] as string;
    // The scan's hostile result feeds the next prompt; reject that step with a hostile reason.
    await human(['orchestrate', 'reject', runId, 'contain', '--reason', HOSTILE]);
    expect(await waiting).toBe(3);
    expectTerminalSafe(deps.stdout.text(), 'stdout of orchestrate run --wait');
    expectTerminalSafe(deps.stderr.text(), 'stderr of orchestrate run --wait', { tab: true });
    expect(deps.stdout.text()).toContain('contain because A\\x1b]0;pwned');

    const shown = await human(['orchestrate', 'show', runId]);
    expect(shown.out).toContain('\\u2066');
    const view = await json<OrchestrationRunView>(['orchestrate', 'show', runId]);
    expect(view.steps[1]?.prompt).toBe(`contain because ${HOSTILE}`);
    await human(['orchestrate', 'runs']);
    await json<OrchestrationRunView[]>(['orchestrate', 'runs']);
    const audit = await json<AuditEntry[]>(['audit']);
    expect(audit.find((e) => e.action === 'orchestration.reject')?.detail).toMatchObject({ reason: HOSTILE });
    expectTerminalSafe((await human(['audit'])).out, 'audit with a hostile reason');
  }, 60_000);

  it('agents list and agents run --local: a hostile agent file and a custom agent writing raw bytes', async () => {
    const agents = join(dir, 'agents');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(agents, { recursive: true });
    // YAML double-quoted strings spell ESC, BEL and NUL as \e, \a and \0.
    writeFileSync(join(agents, 'evil.md'), [
      '---',
      'name: evil',
      'version: 1.0.0',
      'description: "evil \\e]0;pwned\\a \\e[2J \\x9b31m \\u202e end"',
      'provider: custom',
      'timeout: 30s',
      'command: |',
      // Raw ESC/BEL/BS in a non-JSON line, invalid UTF-8 (0xff, a lone 0x9b), and an escaped C1 and ESC inside JSON.
      "  printf 'raw \\033]0;pwned\\007 \\033[2J \\010\\377\\233 end\\n'",
      `  printf '%s\\n' '{"type":"finding","severity":"high","category":"process","title":"t \\u001b]0;x\\u0007 \\u009b1m \\u202e","resource":"r"}'`,
      '---',
      'Hostile.',
      '',
    ].join('\n'));
    const list = await human(['agents', 'list', '--agents', agents]);
    expect(list.out).toContain('evil \\x1b]0;pwned\\x07');
    const listed = await json<{ name: string; description: string }[]>(['agents', 'list', '--agents', agents]);
    expect(listed.find((a) => a.name === 'evil')?.description).toBe('evil \u001b]0;pwned\u0007 \u001b[2J \u009b31m \u202e end');

    const state = join(dir, 'local-state');
    const local = await human(['agents', 'run', 'evil', '--local', '--agents', agents, '--state-dir', state]);
    expect(local.out).toContain('raw \\x1b]0;pwned\\x07 \\x1b[2J \\x08');
    expect(local.out).toContain('t \\x1b]0;x\\x07 \\x9b1m \\u202e');
    const events = await okesu(['agents', 'run', 'evil', '--local', '--agents', agents, '--state-dir', state, '--json']);
    expectTerminalSafe(events.out, 'stdout of agents run --local --json');
    const parsed = events.out.trim().split('\n').map((l) => JSON.parse(l) as { type: string; title?: string });
    expect(parsed.find((e) => e.type === 'finding')?.title).toBe('t \u001b]0;x\u0007 \u009b1m \u202e');
  }, 60_000);
});
