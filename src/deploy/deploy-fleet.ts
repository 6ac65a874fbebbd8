import { deployHost, type DeployCp, type DeployHostResult, type DeployOptions, type DeployPhase } from './deploy-host.js';
import type { SshTarget } from './target.js';

/** What a fleet deploy tells its caller as it goes: a target entered a step, or finished. */
export type DeployProgress = { target: SshTarget; phase: DeployPhase } | { target: SshTarget; result: DeployHostResult };

/** Counts of a fleet deploy's results by outcome, and the failures by kind. */
export interface DeploySummary {
  total: number;
  installed: number;
  upgraded: number;
  unchanged: number;
  failed: number;
  failures: Record<string, number>;
}

/** Deploys to every target, `parallel` at a time; results in the order of `targets`. One target's failure never stops another. */
export async function deployFleet(
  targets: readonly SshTarget[], o: DeployOptions, cp: DeployCp, parallel: number, onProgress: (p: DeployProgress) => void = () => undefined,
): Promise<DeployHostResult[]> {
  const results: DeployHostResult[] = new Array<DeployHostResult>(targets.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < targets.length) {
      const i = next++;
      const target = targets[i] as SshTarget;
      const result = await deployHost(target, o, cp, (phase) => onProgress({ target, phase }));
      results[i] = result;
      onProgress({ target, result });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, targets.length)) }, worker));
  return results;
}

/** Sums a fleet deploy's results. */
export function summarize(results: readonly DeployHostResult[]): DeploySummary {
  const s: DeploySummary = { total: results.length, installed: 0, upgraded: 0, unchanged: 0, failed: 0, failures: {} };
  for (const r of results) {
    if (!r.ok || !r.outcome) {
      s.failed++;
      const kind = r.error?.kind ?? 'unknown';
      s.failures[kind] = (s.failures[kind] ?? 0) + 1;
    } else s[r.outcome]++;
  }
  return s;
}
