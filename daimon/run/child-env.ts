import type { AgentSpec } from '../../src/specs/agent-spec.js';
import type { HostPolicy } from '../../src/specs/policy-spec.js';

/**
 * Variables every process the daimon starts may inherit from the daimon: what a shell command needs to find programs
 * (PATH), to read and print text the host's way (LANG, LANGUAGE, LC_*, TZ), and to know who and where it is (HOME,
 * USER, LOGNAME, TMPDIR). None of them is a credential. Everything else — provider keys, join tokens, cloud
 * credentials, whatever the service manager put there — stays with the daimon unless the agent asks for it by name
 * and the host policy passes it (`env:` / `pass_env:`).
 */
export const BASE_ENV_NAMES: readonly string[] = ['PATH', 'HOME', 'LANG', 'LANGUAGE', 'TZ', 'USER', 'LOGNAME', 'TMPDIR'];
const LOCALE_NAME = /^LC_[A-Z]+$/;

/** PATH when the daimon has none (a bare service manager environment). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A child's environment: plain strings only (what `spawn` gets). */
export type ChildEnv = Record<string, string>;

/**
 * Builds the environment of a process the daimon starts from an allowlist: the base names above and `LC_*`, then
 * each of `pass` that `from` has, then `own` (the run's OKESU_* variables, inputs), which win. Never `from` wholesale.
 */
export function buildChildEnv(from: NodeJS.ProcessEnv, pass: readonly string[] = [], own: Readonly<Record<string, string>> = {}): ChildEnv {
  const env: ChildEnv = {};
  for (const [name, value] of Object.entries(from)) {
    if (value !== undefined && (BASE_ENV_NAMES.includes(name) || LOCALE_NAME.test(name))) env[name] = value;
  }
  env.PATH ??= DEFAULT_PATH;
  for (const name of pass) {
    const value = from[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...own };
}

/** The variables an agent declares (`env:`) split by whether the host policy passes them (`pass_env:`). */
export function passedEnvNames(agent: Pick<AgentSpec, 'env'>, policy: Pick<HostPolicy, 'passEnv'>): { passed: string[]; refused: string[] } {
  const allowed = new Set(policy.passEnv);
  return { passed: agent.env.filter((n) => allowed.has(n)), refused: agent.env.filter((n) => !allowed.has(n)) };
}

/** The variables that name a run to its processes. */
export function runEnv(run: { runId: string; hostname: string; agent: string }): ChildEnv {
  return { OKESU_RUN_ID: run.runId, OKESU_HOST: run.hostname, OKESU_AGENT: run.agent };
}
