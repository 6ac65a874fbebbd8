import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { computeCoverage } from '../../bench/detections/coverage.js';
import { markdownReport, replaceCoverageBlock } from '../../bench/detections/report.js';
import type { CaseResult } from '../../bench/detections/run-cases.js';
import type { AttackTechnique } from '../detections/attack-techniques.js';
import { ATTACK_TECHNIQUES, TACTICS } from '../detections/attack-techniques.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'okesu-detections-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const result = (id: string, techniques: string[], planted: CaseResult['planted'], clean: CaseResult['clean']): CaseResult =>
  ({ id, agent: 'edr', rule: 'r', techniques, planted, clean, problems: [], ms: 1 });
const LIST: AttackTechnique[] = [
  { id: 'T1', name: 'one', tactic: 'execution' },
  { id: 'T2', name: 'two', tactic: 'persistence' },
  { id: 'T3', name: 'three', tactic: 'impact', notCovered: 'needs kernel tracing' },
  { id: 'T4', name: 'four', tactic: 'impact' },
];

describe('coverage', () => {
  it('covers a technique iff a case lists it (or a sub-technique) and passes both sides', () => {
    const c = computeCoverage(LIST, [
      result('a', ['T1.001'], 'caught', 'quiet'),
      result('b', ['T2'], 'caught', 'fired'),
      result('c', ['T2', 'T9'], 'missed', 'quiet'),
    ]);
    expect(c.rows.map((r) => [r.technique.id, r.status])).toEqual([['T1', 'covered'], ['T2', 'failing'], ['T3', 'not-covered'], ['T4', 'not-covered']]);
    expect(c).toMatchObject({ covered: 1, listed: 4, planted: 3, caught: 2, cleanTotal: 3, cleanQuiet: 2, unlisted: [{ technique: 'T9', caseId: 'c' }], unexplained: ['T4'] });
    expect(c.cleanHostHigh).toBeUndefined();
  });

  it('rewrites only the block between the markers', () => {
    const doc = '# D\n\n<!-- coverage:begin (written by npm run detections) -->\nold\n<!-- coverage:end -->\n\n## Next\n';
    const block = markdownReport(computeCoverage(LIST, []), undefined, { date: '2026-12-05', machine: 'Linux 6', cases: 'x' });
    const out = replaceCoverageBlock(doc, block);
    expect(out.startsWith('# D\n\n<!-- coverage:begin (written by npm run detections) -->\nMeasured 2026-12-05 on Linux 6')).toBe(true);
    expect(out).toContain('| techniques covered / listed | 0 / 4 |');
    expect(out).toContain('| impact | T3 three | — | not covered: needs kernel tracing |');
    expect(out.endsWith('<!-- coverage:end -->\n\n## Next\n')).toBe(true);
    expect(replaceCoverageBlock(out, block)).toBe(out);
    expect(() => replaceCoverageBlock('# none', block)).toThrow(/no "<!-- coverage:begin/);
  });

  it('lists each technique once, with a known tactic, and a reason for every one that no case is meant to cover', () => {
    const ids = ATTACK_TECHNIQUES.map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const t of ATTACK_TECHNIQUES) {
      expect(t.id).toMatch(/^T\d{4}(\.\d{3})?$/);
      expect(TACTICS).toContain(t.tactic);
    }
    expect(new Set(ATTACK_TECHNIQUES.map((t) => t.tactic))).toEqual(new Set(TACTICS));
  });
});

/** `tsx bench/detections/run.ts ARGS` to its end. */
function runner(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'bench', 'detections', 'run.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', fail);
    child.once('close', (code) => done({ code, stdout, stderr }));
  });
}

describe('npm run detections', () => {
  it('runs both sides of each case through the CLI, counts what it caught and missed, and writes the docs block', async () => {
    const docs = join(tmp, 'detections.md');
    copyFileSync(join(ROOT, 'docs', 'detections.md'), docs);
    const r = await runner(['--cases', 'test/detections/fixtures', '--skip-clean-host', '--docs', docs, '--strict']);
    expect(r.code, r.stderr).toBe(1); // --strict: a case does not pass
    expect(r.stdout).toMatch(/^planted cases caught \/ planted\s+1 \/ 2$/m);
    expect(r.stdout).toMatch(/^clean counterparts quiet \/ total\s+2 \/ 2$/m);
    expect(r.stdout).toMatch(/^clean-host HIGH \+ CRITICAL findings\s+not run$/m);
    expect(r.stdout).toContain('selftest-plants-nothing (edr/exec-from-writable-dir): planted: no finding of the rule');
    expect(r.stdout).toMatch(/T1204\.002 .* edr\/exec-from-writable-dir {2}covered/);
    expect(r.stdout).toMatch(/T1620 .* edr\/exec-from-writable-dir {2}FAILING \(selftest-plants-nothing\)/);
    const written = readFileSync(docs, 'utf8');
    expect(written).toContain('| planted cases caught / planted | 1 / 2 |');
    expect(written).toContain('| execution | T1204.002 User execution: malicious file (a file written then run from a writable dir) | edr/exec-from-writable-dir | covered |');
    expect(written).toContain('## Noise, grouping and suppression');
  }, 120_000);

  it('refuses a case file that exports no cases, naming it', async () => {
    const dir = join(tmp, 'bad-cases');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    writeFileSync(join(dir, 'oops.ts'), 'export const kases = [];\n');
    const r = await runner(['--cases', dir, '--skip-clean-host', '--no-docs']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${join(dir, 'oops.ts')}: exports no cases array`);
  }, 60_000);
});
