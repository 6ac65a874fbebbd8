import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DetectionCase } from '../../test/detections/detection-case.js';

/** The cases of one file of a cases folder. */
export interface CaseFile {
  file: string;
  cases: DetectionCase[];
}

/**
 * Imports every `*.ts` file of `dir` (sorted by name) and takes its exported `cases: DetectionCase[]`. A file without
 * such an export, or two cases with one id, is an error naming the file: a case that silently does not run would
 * count as not covered with nobody knowing why.
 */
export async function loadCaseFiles(dir: string): Promise<CaseFile[]> {
  const root = resolve(dir);
  const files = readdirSync(root).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).sort();
  const seen = new Map<string, string>();
  const out: CaseFile[] = [];
  for (const file of files) {
    const path = join(root, file);
    const mod = (await import(pathToFileURL(path).href)) as { cases?: unknown };
    if (!Array.isArray(mod.cases)) throw new Error(`${path}: exports no cases array (export const cases: DetectionCase[])`);
    const cases = mod.cases as DetectionCase[];
    for (const c of cases) {
      const where = seen.get(c.id);
      if (where) throw new Error(`${path}: case ${c.id} is also in ${where}`);
      seen.set(c.id, path);
    }
    out.push({ file: path, cases });
  }
  return out;
}
