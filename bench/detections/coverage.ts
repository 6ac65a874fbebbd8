import type { AttackTechnique } from '../../test/detections/attack-techniques.js';
import type { CleanHostResult } from './clean-host.js';
import type { CaseResult } from './run-cases.js';
import { casePasses } from './run-cases.js';

/** One technique's row: the cases that list it and whether one passes. */
export interface TechniqueRow {
  technique: AttackTechnique;
  cases: CaseResult[];
  status: 'covered' | 'failing' | 'not-covered';
}

/** The figures of `npm run detections`. */
export interface Coverage {
  rows: TechniqueRow[];
  covered: number;
  listed: number;
  planted: number;
  caught: number;
  cleanTotal: number;
  cleanQuiet: number;
  /** HIGH + CRITICAL findings of the clean-host run (undefined when it was skipped). */
  cleanHostHigh?: number;
  /** Techniques cases name that the list lacks (a typo, or a row to add). */
  unlisted: { technique: string; caseId: string }[];
  /** Listed techniques with neither a case nor a reason why not. */
  unexplained: string[];
}

/** True when a case's technique is `id` or one of its sub-techniques (`T1053.003` counts for `T1053`). */
const covers = (caseTechnique: string, id: string): boolean => caseTechnique === id || caseTechnique.startsWith(`${id}.`);

/**
 * Computes the coverage table: a technique is covered iff some case lists it and passes (planted side caught, clean
 * side quiet); it is failing when its cases all fail.
 */
export function computeCoverage(techniques: readonly AttackTechnique[], results: readonly CaseResult[], cleanHost?: CleanHostResult): Coverage {
  const rows = techniques.map((technique): TechniqueRow => {
    const cases = results.filter((r) => r.techniques.some((t) => covers(t, technique.id)));
    const status = cases.some(casePasses) ? 'covered' : cases.length > 0 ? 'failing' : 'not-covered';
    return { technique, cases, status };
  });
  const unlisted = results.flatMap((r) => r.techniques.filter((t) => !techniques.some((x) => covers(t, x.id))).map((technique) => ({ technique, caseId: r.id })));
  return {
    rows,
    covered: rows.filter((r) => r.status === 'covered').length,
    listed: rows.length,
    planted: results.length,
    caught: results.filter((r) => r.planted === 'caught').length,
    cleanTotal: results.length,
    cleanQuiet: results.filter((r) => r.clean === 'quiet').length,
    ...(cleanHost && { cleanHostHigh: cleanHost.bySeverity.CRITICAL + cleanHost.bySeverity.HIGH }),
    unlisted,
    unexplained: rows.filter((r) => r.cases.length === 0 && !r.technique.notCovered).map((r) => r.technique.id),
  };
}
