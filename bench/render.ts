/**
 * `npx tsx bench/render.ts [RESULT.json]`: rewrites docs/benchmarks.md from a stored full run (default: the newest in
 * bench/results/) and the current bench/analysis.md, without running anything — for when only the analysis changed.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { markdown } from './lib/report.js';
import type { RunReport } from './lib/report.js';

const root = resolve(import.meta.dirname, '..');
const results = resolve(root, 'bench/results');
const file = process.argv[2] ?? resolve(results, readdirSync(results).filter((f) => f.endsWith('-full.json')).sort().at(-1) ?? '');
const report = JSON.parse(readFileSync(file, 'utf8')) as RunReport;
writeFileSync(resolve(root, 'docs/benchmarks.md'), markdown(report, readFileSync(resolve(root, 'bench/analysis.md'), 'utf8')));
console.log(`docs/benchmarks.md rewritten from ${file}`);
