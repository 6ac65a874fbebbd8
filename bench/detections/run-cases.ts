import type { DetectionCase } from '../../test/detections/detection-case.js';
import { runCase } from '../../test/detections/detection-case.js';

/** How one case did: its planted side caught or not, its clean side quiet or not (or the run failed). */
export interface CaseResult {
  id: string;
  agent: string;
  rule: string;
  techniques: string[];
  planted: 'caught' | 'missed' | 'error';
  clean: 'quiet' | 'fired' | 'error';
  /** Why a side did not pass: the error, or what the clean side reported. */
  problems: string[];
  ms: number;
}

/** True when the case passes: its planted side made a finding of its rule and its clean side none. */
export const casePasses = (r: CaseResult): boolean => r.planted === 'caught' && r.clean === 'quiet';

/** Runs both sides of one case (planted, then clean), each through the real CLI in its own sandbox. */
export async function runBothSides(c: DetectionCase): Promise<CaseResult> {
  const started = performance.now();
  const problems: string[] = [];
  const side = async <T>(name: string, fn: () => Promise<T>, onError: T): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      problems.push(`${name}: ${(err as Error).message.split('\n')[0] ?? ''}`);
      return onError;
    }
  };
  const planted = await side('planted', async () => ((await runCase(c, 'planted')).findings.length > 0 ? 'caught' : 'missed') as CaseResult['planted'], 'error');
  const clean = await side('clean', async () => {
    const out = await runCase(c, 'clean');
    if (out.findings.length > 0) problems.push(`clean: ${out.findings.length} finding(s): ${out.findings.map((f) => String(f.title)).join('; ')}`);
    return (out.findings.length > 0 ? 'fired' : 'quiet') as CaseResult['clean'];
  }, 'error');
  if (planted === 'missed') problems.unshift('planted: no finding of the rule');
  return { id: c.id, agent: c.agent, rule: c.rule, techniques: c.techniques, planted, clean, problems, ms: Math.round(performance.now() - started) };
}

/** Runs `items` through `fn`, at most `jobs` at a time, keeping their order in the result. */
export async function pool<T, R>(items: readonly T[], jobs: number, fn: (item: T) => Promise<R>, onDone?: (result: R) => void): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
      onDone?.(results[i] as R);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker));
  return results;
}
