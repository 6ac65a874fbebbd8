import { ERROR_CATALOGUE, OkesuError } from '../../errors.js';

/** One step of an install or uninstall plan: `--dry-run` prints the titles, the real run prints and runs them in order. */
export interface PlanStep {
  /** What the step does, in one line (`create /var/lib/okesu (0700)`). */
  title: string;
  /** Absent for a step with nothing to do (already done, or not this kind of install): its title says why. */
  run?: () => Promise<void> | void;
}

/** A step that does something. */
export function step(title: string, run: () => Promise<void> | void): PlanStep {
  return { title, run };
}

/** A step with nothing to do, saying why. */
export function skip(title: string): PlanStep {
  return { title };
}

/** The line a plan prints for a step (`dry` for --dry-run). */
export function stepLine(s: PlanStep, dry: boolean): string {
  if (!s.run) return `  - skip: ${s.title}`;
  return dry ? `  - would: ${s.title}` : `  - ${s.title}`;
}

/** Runs the steps in order, reporting each before it runs; a failure names the step and stops the plan. */
export async function runSteps(steps: readonly PlanStep[], report: (line: string) => void): Promise<void> {
  for (const s of steps) {
    report(stepLine(s, false));
    if (!s.run) continue;
    try {
      await s.run();
    } catch (err) {
      const code = err instanceof OkesuError ? err.code : 'OKS_ERR_INSTALL';
      // "wait for …: no heartbeat …", not "wait for …: the installation failed: no heartbeat …".
      const base = `${ERROR_CATALOGUE[code].message}: `;
      const detail = err instanceof Error ? err.message : String(err);
      const e = new OkesuError(code);
      e.message = `${s.title}: ${err instanceof OkesuError && detail.startsWith(base) ? detail.slice(base.length) : detail}`;
      throw e;
    }
  }
}
