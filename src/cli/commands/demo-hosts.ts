import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import type { Logger } from 'pino';
import type { createDaimon as CreateDaimon, Daimon } from '../../../daimon/daimon.js';
import type { OperatorClient } from '../../transport/operator-client.js';
import type { Bucket } from '../../transport/bucket/bucket.js';

/** Most simulated hosts `okesu demo --hosts N` starts (each is a whole daimon in the demo's process). */
export const MAX_SIM_HOSTS = 500;
/** The trivial agent every simulated host runs on dispatch. */
export const SIM_AGENT = 'sim-check';

/** Commander parser for `--hosts`: 0 … MAX_SIM_HOSTS. */
export function simHostsArg(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > MAX_SIM_HOSTS) throw new InvalidArgumentError(`expected a whole number from 0 to ${MAX_SIM_HOSTS}.`);
  return n;
}

/** The i-th simulated host's name (1-based): sim-001, sim-002, …. */
export function simHostname(i: number): string {
  return `sim-${String(i).padStart(3, '0')}`;
}

/** The i-th simulated jobs-mode host's name (1-based): job-001, job-002, …. */
export function jobsHostname(i: number): string {
  return `job-${String(i).padStart(3, '0')}`;
}

/** The i-th simulated host's labels: `sim=true` and a zone a, b or c in turn (for label selectors). */
export function simLabels(i: number): Record<string, string> {
  return { sim: 'true', zone: ['a', 'b', 'c'][(i - 1) % 3] as string };
}

// A shell one-liner: cheap enough for a fan-out to hundreds of hosts on one machine. The hostname comes from the
// daimon (sim-NNN, chosen by the demo); every fifth host reports a drift finding so the findings view has groups.
const SIM_AGENT_FILE = `---
name: ${SIM_AGENT}
version: 1.0.0
description: Demo agent for simulated hosts — says hello and, on every fifth host, reports a configuration drift.
provider: custom
timeout: 30s
command: |
  cat >/dev/null
  printf '{"type":"text","text":"sim-check on %s"}\\n' "$OKESU_HOST"
  case "$OKESU_HOST" in
    *0|*5) printf '{"type":"finding","severity":"medium","category":"config","title":"Simulated config drift","resource":"file:/etc/sim.conf","evidence":["checksum differs on %s"],"dedup_key":"sim-drift"}\\n' "$OKESU_HOST" ;;
  esac
---
Runs on the demo's simulated hosts.
`;

/** Writes the simulated hosts' agent into `dir` (also given to the CP's library, so the console can dispatch it). */
export function writeSimAgent(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, `${SIM_AGENT}.md`), SIM_AGENT_FILE);
}

/** What starting the simulated hosts needs. */
export interface SimHostsOptions {
  count: number;
  /** Each host's state lives in `<stateDir>/sim-NNN`. */
  stateDir: string;
  cp: string;
  client: OperatorClient;
  agentDir: string;
  version: string;
  log: Logger;
  createDaimon: typeof CreateDaimon;
  /**
   * Jobs-mode hosts instead (job-001…): each registers through this bucket and polls it, never connecting to the CP
   * (`cp` is then unused). The demo passes an in-process bucket it shares with its CP.
   */
  jobs?: { bucket: Bucket; pollMs: number };
}

/**
 * Starts `count` real daimons in this process (hostnames sim-001…, labels sim=true and a zone), each with its own
 * state dir, registered with one join token of as many uses as hosts still without an identity, heartbeating over
 * real tunnels. Resolves once every one started; `stop()` stops them all.
 */
export async function startSimHosts(opts: SimHostsOptions): Promise<{ daimons: Daimon[]; stop(): Promise<void> }> {
  const indexes = Array.from({ length: opts.count }, (_, i) => i + 1);
  const nameOf = opts.jobs ? jobsHostname : simHostname;
  const dirOf = (i: number): string => join(opts.stateDir, nameOf(i));
  const joining = indexes.filter((i) => !existsSync(join(dirOf(i), 'identity.json'))).length;
  const token = joining > 0 ? (await opts.client.createToken({ kind: 'join', ttl_ms: 600_000, uses: joining, name: 'demo-sim' })).token : undefined;
  const jobs = opts.jobs;
  const daimons = indexes.map((i) =>
    opts.createDaimon(
      {
        stateDir: dirOf(i), token, hostname: nameOf(i), version: opts.version, labels: simLabels(i), agentDirs: [opts.agentDir], stopGraceMs: 1000,
        ...(jobs ? { transport: 'jobs' as const, bucket: { bucket: 'okesu-demo', prefix: '' }, pollMs: jobs.pollMs } : { cp: opts.cp }),
      },
      { log: opts.log.child({ role: 'daimon', sim: nameOf(i) }), ...(jobs && { openBucket: async () => jobs.bucket }) },
    ),
  );
  // A few at a time: each registers (key, CSR, HTTPS) and loads its agent catalog on start.
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < daimons.length) await (daimons[next++] as Daimon).start();
  };
  const stopAll = async (): Promise<void> => {
    await Promise.allSettled(daimons.map((d) => d.stop()));
  };
  try {
    await Promise.all(Array.from({ length: Math.min(16, daimons.length) }, worker));
  } catch (err) {
    await stopAll();
    throw err;
  }
  return { daimons, stop: stopAll };
}
