import { OkesuError } from '../../errors.js';
import { readHealthMark } from '../../../daimon/lifecycle/health-mark.js';
import type { HealthMark } from '../../../daimon/lifecycle/state-layout.js';

/** What to wait for in STATE/health.json. */
export interface HealthWait {
  path: string;
  /** The version that must be heartbeating; undefined accepts any (a reinstall of a host an upgrade moved on). */
  version?: string;
  /** Only a mark written at or after this time (ms) counts: an old file from the last life proves nothing. */
  since: number;
  timeoutMs: number;
  /** Says why waiting is pointless (e.g. the supervisor died), checked on every poll. */
  gone?: () => string | undefined;
  intervalMs?: number;
}

/** Waits for the daimon's first acknowledged heartbeat as STATE/health.json shows it; OKS_ERR_INSTALL on timeout, saying what was last seen. */
export async function waitForHealth(w: HealthWait): Promise<HealthMark> {
  const deadline = Date.now() + w.timeoutMs;
  for (;;) {
    const mark = readHealthMark(w.path);
    if (mark && mark.at >= w.since && (w.version === undefined || mark.version === w.version)) return mark;
    const gone = w.gone?.();
    if (gone !== undefined) throw new OkesuError('OKS_ERR_INSTALL', `the daimon will not heartbeat: ${gone}`);
    if (Date.now() > deadline) {
      const seen = mark ? `last mark: version ${mark.version} at ${new Date(mark.at).toISOString()}` : `${w.path} was never written`;
      throw new OkesuError('OKS_ERR_INSTALL', `no heartbeat${w.version === undefined ? '' : ` of version ${w.version}`} within ${Math.round(w.timeoutMs / 1000)} s (${seen})`);
    }
    await new Promise((r) => setTimeout(r, w.intervalMs ?? 200));
  }
}
