import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchSuite } from './types.js';
import { suites as fixed } from '../suites/index.js';

/** Suites owned elsewhere that join the run only when their file exists. */
const OPTIONAL = ['tunnel-capacity', 'fan-out'];
/** Run order: the numbering. */
const ORDER = ['tunnel-capacity', 'ingest', 'fan-out', 'e2e-latency', 'daimon-footprint', 'reconnect-storm', 'console'];

function isSuite(value: unknown): value is BenchSuite {
  const v = value as Partial<BenchSuite> | null;
  return typeof v === 'object' && v !== null && typeof v.name === 'string' && typeof v.run === 'function';
}

/** What was found: the suites, and optional files that exist but could not be loaded (reported as failed rows). */
export interface Discovered {
  suites: BenchSuite[];
  broken: { name: string; error: string }[];
}

/** The fixed list from `bench/suites/index.ts` plus `tunnel-capacity.ts` / `fan-out.ts` when present, in issue order. */
export async function discoverSuites(): Promise<Discovered> {
  const found = new Map<string, BenchSuite>(fixed.map((s) => [s.name, s]));
  const broken: Discovered['broken'] = [];
  for (const name of OPTIONAL) {
    const file = resolve(import.meta.dirname, '../suites', `${name}.ts`);
    if (!existsSync(file)) continue;
    try {
      const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      const exported = Object.values(mod).flatMap((v) => (Array.isArray(v) ? v : [v])).filter(isSuite);
      if (exported.length === 0) throw new Error('exports no BenchSuite');
      for (const s of exported) if (!found.has(s.name)) found.set(s.name, s);
    } catch (err) {
      broken.push({ name, error: err instanceof Error ? err.message : String(err) });
    }
  }
  const rank = (n: string): number => (ORDER.includes(n) ? ORDER.indexOf(n) : ORDER.length);
  return { suites: [...found.values()].sort((a, b) => rank(a.name) - rank(b.name)), broken };
}
