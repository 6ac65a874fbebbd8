import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliEvent } from './sandbox.js';
import { runAgentCli, sandbox, startSleeper, stopChild } from './sandbox.js';

// The host policy's suppress: list through `okesu agents run edr --local --policy FILE`: two processes run from a
// sandbox exec dir; an entry drops the one the host owner expects (its finding never leaves the run, which reports the
// count by entry), its twin is still reported, and an expired entry suppresses nothing and is named in a warning.

let box: ReturnType<typeof sandbox>;
let expected: Awaited<ReturnType<typeof startSleeper>> | undefined;
let twin: Awaited<ReturnType<typeof startSleeper>> | undefined;
let execDir: string;

beforeAll(async () => {
  box = sandbox('okesu-suppress-e2e-');
  execDir = join(box.dir, 'tmp');
  expected = await startSleeper(execDir, 'build-agent');
  twin = await startSleeper(execDir, 'kworkerd');
  // Old binaries: edr's recently-written-executable rule (which no entry here suppresses) stays out of the way.
  const old = new Date('2020-01-01T00:00:00Z');
  for (const s of [expected, twin]) utimesSync(s.exe, old, old);
});
afterAll(async () => {
  await stopChild(expected?.child);
  await stopChild(twin?.child);
  box.cleanup();
});

const RULE = 'exec-from-writable-dir';
const fromRule = (f: CliEvent) => (f.attributes as { rule?: string } | undefined)?.rule === RULE;
const inYear = (days: number) => new Date(Date.now() + days * 24 * 3600_000).toISOString().slice(0, 10);

describe('suppress: through the CLI', () => {
  it('drops the expected finding on the host, reports how many by which entry, and keeps its twin', async () => {
    const policy = join(box.dir, 'suppress.yaml');
    writeFileSync(policy, [
      'deny:',
      '  agents: [nothing-denied]',
      'suppress:',
      '  - agent: edr',
      `    rule: ${RULE}`,
      "    match: { resource: 'binary:*/tmp/build-agent' }",
      '    reason: the CI runner starts its build agent from its work dir',
      `    expires: ${inYear(90)}`,
      '  - agent: edr',
      `    rule: ${RULE}`,
      "    match: { resource: 'binary:*/kworkerd' }",
      '    reason: an old exception nobody renewed',
      '    expires: 2026-01-01',
      '',
    ].join('\n'), { mode: 0o600 });

    const r = await runAgentCli('edr', { process_scope: [box.dir], exec_dirs: [execDir] }, join(box.dir, 'state'), policy);
    expect(r.code, r.stderr).toBe(0);
    expect(r.findings.filter(fromRule).map((f) => f.resource)).toEqual([`binary:${twin?.exe}, pid:${twin?.pid}`]);
    expect(JSON.stringify(r.events)).not.toContain('build-agent');

    const report = r.events.filter((e) => e.type === 'findings_suppressed');
    expect(report).toEqual([expect.objectContaining({
      count: 1,
      by: [{ entry: 0, at: `${policy}:4`, agent: 'edr', rule: RULE, reason: 'the CI runner starts its build agent from its work dir', expires: inYear(90), count: 1 }],
    })]);
    // Before run_end, which counts only the findings sent.
    expect(r.events.at(-1)).toMatchObject({ type: 'run_end', status: 'completed', findings: r.findings.length });
    expect(r.stderr).toContain('host policy suppression has expired');
    expect(r.stderr).toContain(`suppress[1] (${policy}:9) edr/${RULE}`);
  }, 60_000);

  it('refuses a policy whose suppression has no reason, naming the file and line', async () => {
    const policy = join(box.dir, 'bad.yaml');
    writeFileSync(policy, `suppress:\n  - agent: edr\n    rule: ${RULE}\n    expires: ${inYear(30)}\n`, { mode: 0o600 });
    const r = await runAgentCli('edr', { process_scope: [box.dir], exec_dirs: [execDir] }, join(box.dir, 'state2'), policy);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${policy}:2:5: suppress.0.reason: is required`);
  }, 60_000);
});
