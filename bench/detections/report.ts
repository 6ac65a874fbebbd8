import { SEVERITIES } from '../../src/protocol/finding.js';
import { displayText } from '../../src/text/display-text.js';
import type { CleanHostResult } from './clean-host.js';
import type { Coverage, TechniqueRow } from './coverage.js';

/** The figures as `label: a / b` pairs, shared by the terminal and the docs. */
export function figures(c: Coverage): [string, string][] {
  return [
    ['techniques covered / listed', `${c.covered} / ${c.listed}`],
    ['planted cases caught / planted', `${c.caught} / ${c.planted}`],
    ['clean counterparts quiet / total', `${c.cleanQuiet} / ${c.cleanTotal}`],
    ['clean-host HIGH + CRITICAL findings', c.cleanHostHigh === undefined ? 'not run' : String(c.cleanHostHigh)],
  ];
}

const rulesOf = (row: TechniqueRow): string => [...new Set(row.cases.map((r) => `${r.agent}/${r.rule}`))].join(', ');
const statusOf = (row: TechniqueRow): string =>
  row.status === 'covered' ? 'covered'
  : row.status === 'failing' ? `FAILING (${row.cases.map((r) => r.id).join(', ')})`
  : `not covered: ${row.technique.notCovered ?? 'no case yet'}`;

/** The terminal report: figures, failing cases, clean-host findings, and the technique table. */
export function textReport(c: Coverage, clean: CleanHostResult | undefined): string {
  const lines: string[] = [];
  const width = Math.max(...figures(c).map(([l]) => l.length));
  for (const [label, value] of figures(c)) lines.push(`${label.padEnd(width)}  ${value}`);
  const failing = c.rows.flatMap((r) => r.cases).filter((r, i, all) => all.indexOf(r) === i && (r.planted !== 'caught' || r.clean !== 'quiet'));
  if (failing.length > 0) {
    lines.push('', 'cases that do not pass:');
    for (const r of failing) lines.push(`  ${r.id} (${r.agent}/${r.rule}): ${r.problems.map((p) => displayText(p)).join('; ')}`);
  }
  if (clean) {
    lines.push('', `clean host (${clean.agents.join(', ')}, two runs each): ${SEVERITIES.map((s) => `${s} ${clean.bySeverity[s]}`).join(', ')}`);
    for (const f of clean.findings) lines.push(`  ${f.severity.padEnd(8)} ${f.agent}/${f.rule} ×${f.count}: ${displayText(f.title)}`);
    for (const failure of clean.failures) lines.push(`  run failed: ${displayText(failure)}`);
    for (const s of clean.suppressed) lines.push(`  suppressed by the clean-host policy (${s.at}) ${s.agent}/${s.rule ?? '*'} ×${s.count}: ${displayText(s.reason)}`);
  }
  for (const u of c.unlisted) lines.push(`warning: case ${u.caseId} lists ${u.technique}, which test/detections/attack-techniques.ts does not`);
  if (c.unexplained.length > 0) lines.push(`warning: ${c.unexplained.length} listed technique(s) have no case and no notCovered reason: ${c.unexplained.join(', ')}`);
  lines.push('');
  for (const row of c.rows) {
    lines.push(`${row.technique.tactic.padEnd(21)} ${row.technique.id.padEnd(10)} ${row.technique.name.slice(0, 60).padEnd(60)} ${rulesOf(row) || '-'}  ${statusOf(row)}`);
  }
  return lines.join('\n');
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\s+/g, ' ');

/** The generated part of docs/detections.md: when and where it was measured, the figures, clean-host findings, techniques. */
export function markdownReport(c: Coverage, clean: CleanHostResult | undefined, measured: { date: string; machine: string; cases: string }): string {
  const lines = [
    `Measured ${measured.date} on ${measured.machine} by \`npm run detections\` (cases: \`${measured.cases}\`).`,
    '',
    '| measure | figure |',
    '|---|---|',
    ...figures(c).map(([l, v]) => `| ${l} | ${v} |`),
    '',
  ];
  if (clean) {
    lines.push(`Clean-host run (${clean.agents.join(', ')}; default inputs, no model key, two runs each): ${SEVERITIES.map((s) => `${s} ${clean.bySeverity[s]}`).join(', ')}.`);
    if (clean.findings.length > 0) {
      lines.push('', '| severity | agent/rule | title | count |', '|---|---|---|---|');
      for (const f of clean.findings) lines.push(`| ${f.severity} | ${cell(`${f.agent}/${f.rule}`)} | ${cell(f.title)} | ${f.count} |`);
    }
    for (const s of clean.suppressed) {
      lines.push('', `Suppressed by the clean-host policy (\`bench/detections/clean-host-policy.yaml\`): ${s.agent}/${s.rule ?? '*'} ×${s.count} — ${cell(s.reason)}.`);
    }
    lines.push('');
  }
  lines.push('| tactic | technique | caught by (agent/rule) | status |', '|---|---|---|---|');
  for (const row of c.rows) {
    const t = row.technique;
    lines.push(`| ${t.tactic} | ${t.id} ${cell(t.name)} | ${cell(rulesOf(row)) || '—'} | ${cell(statusOf(row))} |`);
  }
  return lines.join('\n');
}

const BEGIN = /<!-- coverage:begin[^>]*-->/;
const END = '<!-- coverage:end -->';

/** `doc` with the text between its coverage markers replaced by `block`; throws when the markers are missing. */
export function replaceCoverageBlock(doc: string, block: string): string {
  const begin = BEGIN.exec(doc);
  const end = doc.indexOf(END);
  if (!begin || end < begin.index) throw new Error(`docs/detections.md has no "<!-- coverage:begin … -->" … "${END}" block`);
  const head = doc.slice(0, begin.index + begin[0].length);
  return `${head}\n${block.trimEnd()}\n${doc.slice(end)}`;
}
