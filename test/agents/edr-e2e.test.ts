import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliEvent, CliRun } from './sandbox.js';
import { runAgentCli, sandbox, startSleeper, stopChild } from './sandbox.js';

// `okesu agents run edr --local` against a sandbox: real processes started from the sandbox, a sandbox auth log,
// no model key. Process rules look at the real /proc, narrowed to the sandbox by process_scope.

let box: ReturnType<typeof sandbox>;
let deleted: Awaited<ReturnType<typeof startSleeper>> | undefined;
let fromTmp: Awaited<ReturnType<typeof startSleeper>> | undefined;
let authLog: string;
let execDir: string;

beforeAll(async () => {
  box = sandbox('okesu-edr-e2e-');
  execDir = join(box.dir, 'tmp');
  deleted = await startSleeper(join(box.dir, 'dropped'), 'payload', true);
  fromTmp = await startSleeper(execDir, 'kworkerd');
  authLog = join(box.dir, 'auth.log');
  const line = (i: number) => `Jan  5 12:00:${String(i % 60).padStart(2, '0')} web sshd[${900 + i}]: Failed password for root from 203.0.113.9 port ${41000 + i} ssh2`;
  writeFileSync(authLog, `${Array.from({ length: 25 }, (_, i) => line(i)).join('\n')}\n`);
});
afterAll(async () => {
  await stopChild(deleted?.child);
  await stopChild(fromTmp?.child);
  box.cleanup();
});

const fromRule = (rule: string) => (f: CliEvent) => (f.attributes as { rule?: string } | undefined)?.rule === rule;
const summary = (f: CliEvent) => ({ severity: f.severity, title: f.title, category: f.category, resource: f.resource });

function expectCompletedWithoutModel(r: CliRun): void {
  expect(r.code, r.stderr).toBe(0);
  expect(r.events.some((e) => e.type === 'api_unavailable')).toBe(true);
  expect(r.events.at(-1)).toMatchObject({ type: 'run_end', status: 'completed' });
}

describe('edr through the CLI', () => {
  const inputs = () => ({ process_scope: [box.dir], exec_dirs: [execDir], hidden_dirs: [execDir], odd_name_roots: [execDir], auth_source: 'files', auth_log_files: [authLog] });
  const state = () => join(box.dir, 'state');

  it('reports a deleted executable, a process running from an exec dir, both as recently written, and SSH brute force, with no API key', async () => {
    const r = await runAgentCli('edr', inputs(), state(), box.policy);
    expectCompletedWithoutModel(r);
    expect(r.findings.map(summary).sort((a, b) => String(a.title).localeCompare(String(b.title)))).toEqual([
      { severity: 'HIGH', title: 'Process running from a deleted executable', category: 'process', resource: `binary:${deleted?.exe}, pid:${deleted?.pid}` },
      { severity: 'HIGH', title: 'Process running from a world-writable directory', category: 'process', resource: `binary:${fromTmp?.exe}, pid:${fromTmp?.pid}` },
      { severity: 'MEDIUM', title: 'Process running a recently written executable', category: 'process', resource: `binary:${deleted?.exe}, pid:${deleted?.pid}` },
      { severity: 'MEDIUM', title: 'Process running a recently written executable', category: 'process', resource: `binary:${fromTmp?.exe}, pid:${fromTmp?.pid}` },
      { severity: 'MEDIUM', title: 'Repeated SSH authentication failures from one source', category: 'identity', resource: 'ip:203.0.113.9' },
    ].sort((a, b) => a.title.localeCompare(b.title)));
    const deletedFinding = r.findings.find((f) => f.title === 'Process running from a deleted executable');
    expect(deletedFinding?.evidence).toEqual([expect.stringMatching(new RegExp(`^pid=${deleted?.pid} .* exe=${deleted?.exe} \\(deleted\\)$`))]);
    expect(deletedFinding?.attributes).toMatchObject({ rule: 'deleted-executable', collector: 'processes' });
    // The identity is the executable; the pid stays in the resource (the CP's fingerprint drops it) and the evidence.
    expect(deletedFinding?.dedup_key).toBe(`deleted-exe:${deleted?.exe}`);
  });

  it('then reports the executable dropped since the previous run once, while the running processes are reported again', async () => {
    writeFileSync(join(execDir, 'dropper.sh'), '#!/bin/sh\n', { mode: 0o755 });
    const second = await runAgentCli('edr', inputs(), state(), box.policy);
    expectCompletedWithoutModel(second);
    // A local run reports everything its always-rules see (only scheduled ticks dedup); last_run rules report news only.
    expect(second.findings.filter(fromRule('new-executable-in-writable-dir')).map(summary)).toEqual([
      { severity: 'MEDIUM', title: 'New executable file in a world-writable directory', category: 'file', resource: `path:${execDir}/dropper.sh` },
    ]);
    expect(second.findings.filter(fromRule('deleted-executable'))).toHaveLength(1);
    const third = await runAgentCli('edr', inputs(), state(), box.policy);
    expectCompletedWithoutModel(third);
    expect(third.findings.filter(fromRule('new-executable-in-writable-dir'))).toEqual([]);
    expect(third.findings).toHaveLength(5);
  });

  it('finds nothing on a clean sandbox', async () => {
    const clean = join(box.dir, 'clean');
    mkdirSync(join(clean, 'tmp'), { recursive: true });
    writeFileSync(join(clean, 'auth.log'), '');
    const tmp = join(clean, 'tmp');
    const r = await runAgentCli('edr', { process_scope: [clean], exec_dirs: [tmp], hidden_dirs: [tmp], odd_name_roots: [tmp], auth_source: 'files', auth_log_files: [join(clean, 'auth.log')] },
      join(clean, 'state'), box.policy);
    expectCompletedWithoutModel(r);
    expect(r.findings).toEqual([]);
    expect(r.collector('processes')).toMatchObject({ exit_code: 0, bytes: 0 });
    expect(r.collector('ssh_auth')).toMatchObject({ exit_code: 0 });
  });
});
