/**
 * `npm run detections [-- --cases DIR] [-- --jobs N] [-- --skip-clean-host] [-- --clean-policy FILE] [-- --no-docs]
 * [-- --strict]`: runs the
 * planted and clean side of every detection case (`test/detections/cases/*.ts`, through the built CLI), then every
 * built-in agent with rules on this machine (the clean-host run), prints the coverage table against the ATT&CK list
 * (`test/detections/attack-techniques.ts`) and rewrites the coverage block of docs/detections.md.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, release, type } from 'node:os';
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ATTACK_TECHNIQUES } from '../../test/detections/attack-techniques.js';
import { agentsWithRules, runCleanHost } from './clean-host.js';
import type { CleanHostResult } from './clean-host.js';
import { computeCoverage } from './coverage.js';
import { loadCaseFiles } from './load-cases.js';
import { markdownReport, replaceCoverageBlock, textReport } from './report.js';
import { casePasses, pool, runBothSides } from './run-cases.js';

const root = resolve(import.meta.dirname, '..', '..');
const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: 'test/detections/cases' },
    jobs: { type: 'string', default: '2' },
    'skip-clean-host': { type: 'boolean', default: false },
    // The known-good exceptions of the measuring machine; --clean-policy '' runs with an empty policy.
    'clean-policy': { type: 'string', default: 'bench/detections/clean-host-policy.yaml' },
    'no-docs': { type: 'boolean', default: false },
    docs: { type: 'string', default: 'docs/detections.md' },
    strict: { type: 'boolean', default: false },
  },
  strict: true,
});
const jobs = Number(values.jobs);
if (!Number.isInteger(jobs) || jobs < 1) {
  console.error(`--jobs: expected a positive integer, got ${values.jobs}`);
  process.exit(2);
}
const casesDir = resolve(root, values.cases);
const log = (line: string): void => console.error(`[detections] ${line}`);

const files = existsSync(casesDir) ? await loadCaseFiles(casesDir) : [];
if (files.length === 0) log(`no case files in ${relative(root, casesDir)}`);
const cases = files.flatMap((f) => f.cases);
log(`${cases.length} case(s) from ${files.length} file(s), ${jobs} at a time`);
const results = await pool(cases, jobs, runBothSides, (r) => log(`${r.id}: planted ${r.planted}, clean ${r.clean} (${(r.ms / 1000).toFixed(1)} s)`));

let clean: CleanHostResult | undefined;
if (!values['skip-clean-host']) {
  const agents = agentsWithRules();
  log(`clean-host run: ${agents.join(', ')}`);
  const policy = values['clean-policy'] ? resolve(root, values['clean-policy']) : undefined;
  clean = await runCleanHost(agents, jobs, log, policy);
}

const coverage = computeCoverage(ATTACK_TECHNIQUES, results, clean);
console.log(textReport(coverage, clean));

if (!values['no-docs']) {
  const docs = resolve(root, values.docs);
  const block = markdownReport(coverage, clean, {
    date: new Date().toISOString().slice(0, 10),
    machine: machineName(),
    cases: relative(root, casesDir),
  });
  writeFileSync(docs, replaceCoverageBlock(readFileSync(docs, 'utf8'), block));
  log(`wrote the coverage block of ${relative(root, docs)}`);
}
/** `Debian GNU/Linux 12 (bookworm), Linux 6.1.0, 2 CPUs`: the OS release's pretty name when it has one. */
function machineName(): string {
  let os = type();
  try {
    os = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os;
  } catch {
    // no os-release: the kernel's name will do
  }
  return `${os}, ${type()} ${release()}, ${availableParallelism()} CPUs`;
}

if (values.strict && (!results.every(casePasses) || (coverage.cleanHostHigh ?? 0) > 0)) process.exit(1);
