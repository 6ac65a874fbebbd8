/**
 * `npm run bench [-- --quick] [-- --only NAME]`: runs the suites one after another, each isolated (a suite that throws
 * becomes a failed row), prints a table, writes `bench/results/<timestamp>-<mode>.json` and rewrites `docs/benchmarks.md`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { suites } from './suites/index.js';
import { machineFacts } from './lib/machine.js';
import { BUDGET_SECONDS, budgetLine, markdown, textTable, type RunReport, type SuiteOutcome } from './lib/report.js';
import { takeOverheadSeconds } from './lib/setup-clock.js';
import { closeSharedFleet, planSharedFleet } from './sim/shared-fleet.js';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string', multiple: true } }, strict: true });
const quick = values.quick ?? false;
const only = values.only ?? [];
const root = resolve(import.meta.dirname, '..');

const known = suites.map((s) => s.name);
const unknown = only.filter((n) => !known.includes(n));
if (unknown.length > 0) {
  console.error(`unknown suite ${unknown.join(', ')}; known: ${known.join(', ')}`);
  process.exit(2);
}
const selected = (name: string): boolean => only.length === 0 || only.includes(name);

const startedAt = new Date();
// `npm run bench` stamps its own start (before the build) into OKESU_BENCH_T0, epoch ms: the budget counts the build.
const launchedAt = Number(process.env['OKESU_BENCH_T0']);
const launched = Number.isFinite(launchedAt) && launchedAt > 0 && launchedAt <= startedAt.getTime();
const t0 = performance.now();
const outcomes: SuiteOutcome[] = [];
const plan = suites.filter((s) => selected(s.name));
// Which suites run next to which: tunnel-capacity, fan-out and the storm hand their CP and fleet on when adjacent.
planSharedFleet(plan.map((s) => s.name));
for (const suite of plan) {
  const started = performance.now();
  const log = (msg: string): void => console.error(`[${suite.name}] ${msg}`);
  log(`start (${quick ? 'quick' : 'full'})`);
  takeOverheadSeconds();
  try {
    const result = await suite.run({ quick, log });
    outcomes.push({ suite: suite.name, ok: true, seconds: (performance.now() - started) / 1000, ...takeOverheadSeconds(), result });
  } catch (err) {
    const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
    log(`FAILED: ${error}`);
    outcomes.push({ suite: suite.name, ok: false, seconds: (performance.now() - started) / 1000, ...takeOverheadSeconds(), error: err instanceof Error ? err.message : String(err) });
  }
  const last = outcomes[outcomes.length - 1];
  // A fleet left for a suite that never took it is stopped after the last suite.
  if (suite === plan[plan.length - 1]) await closeSharedFleet();
  log(`done in ${Math.round((performance.now() - started) / 1000)} s (set-up ${Math.round(last?.setupSeconds ?? 0)} s, teardown ${Math.round(last?.teardownSeconds ?? 0)} s)`);
}

const args = [...(quick ? ['--quick'] : []), ...only.flatMap((n) => ['--only', n])];
const report: RunReport = {
  startedAt: startedAt.toISOString(),
  mode: quick ? 'quick' : 'full',
  command: `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`,
  machine: machineFacts(),
  seconds: (performance.now() - t0) / 1000,
  wall: {
    ...(launched ? { totalSeconds: (Date.now() - launchedAt) / 1000, buildSeconds: (startedAt.getTime() - launchedAt) / 1000 } : {}),
    budgetSeconds: BUDGET_SECONDS[quick ? 'quick' : 'full'],
    wholeRun: only.length === 0,
  },
  outcomes,
};

console.log(textTable(outcomes));
const m = report.machine;
console.log(`\n${m.cpuModel}, ${m.cores} cores, ${m.totalMemoryGiB} GiB, Node ${m.node}, ${m.os}; ${Math.round(report.seconds)} s`);
console.log(budgetLine(report));

mkdirSync(resolve(root, 'bench/results'), { recursive: true });
const file = resolve(root, 'bench/results', `${report.startedAt.replace(/[:.]/g, '-')}-${report.mode}.json`);
writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
// bench/analysis.md is the hand-written part (what the figures mean, what profiling found); it survives every rewrite.
const analysisFile = resolve(root, 'bench/analysis.md');
writeFileSync(resolve(root, 'docs/benchmarks.md'), markdown(report, existsSync(analysisFile) ? readFileSync(analysisFile, 'utf8') : ''));
console.log(`wrote ${file} and docs/benchmarks.md`);
process.exitCode = outcomes.every((o) => o.ok) ? 0 : 1;
