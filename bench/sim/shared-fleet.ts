import { round, waitUntil } from '../lib/stats.js';
import { timedSetup, timedTeardown } from '../lib/setup-clock.js';
import type { OperatorClient } from '../../src/transport/operator-client.js';
import { DAIMON_BACKOFF } from './durable-sim.js';
import type { Fleet } from './fleet.js';
import { restartableFrom, type RestartableCp } from './restartable-cp.js';
import { startFleetBench, type FleetBench } from './setup.js';

/**
 * One connected fleet and its CP passed along a chain of suites, as a real CP is one long-lived process: tunnel-capacity
 * grows its tunnels to the largest N, fan-out dispatches to those same open tunnels, and the reconnect storm turns them
 * into durable sims (no reconnect), kills that CP and starts it again on its state. Connecting 10,000 tunnels (~15-60 s
 * under load) and starting a CP and simulators thus happen once for the three. A suite hands the fleet on only when
 * the next suite of this run's plan is the next link of the chain; one run alone (`--only fan-out`) sets up its own,
 * as before. OKESU_BENCH_FRESH_FLEET=1 or OKESU_BENCH_CPU_PROF=1 (one profile per suite's CP) turns the sharing off.
 */
export const SHARED_CHAIN = ['tunnel-capacity', 'fan-out', 'reconnect-storm'] as const;
type ChainSuite = (typeof SHARED_CHAIN)[number];

/** A fleet bench handed from suite to suite: the CP's flags (for a restart) and who ran on it before. */
export interface FleetLease {
  bench: FleetBench;
  cpArgs: string[];
  /** Suites that ran on this CP before the holder (empty when the holder set it up). */
  before: string[];
}

let plan: readonly string[] = [];
let kept: FleetLease | undefined;

const sharing = (): boolean => process.env['OKESU_BENCH_FRESH_FLEET'] !== '1' && process.env['OKESU_BENCH_CPU_PROF'] !== '1';

/** The runner's plan: the suites of this run, in order. */
export function planSharedFleet(suites: readonly string[]): void {
  plan = suites;
}

/** Whether the suite after `suite` in the plan is the next link of the chain (and so takes its fleet over). */
function handsOver(suite: ChainSuite): boolean {
  const next = plan[plan.indexOf(suite) + 1];
  return sharing() && next !== undefined && SHARED_CHAIN.indexOf(next as ChainSuite) > SHARED_CHAIN.indexOf(suite);
}

/** The fleet the suite before left for `suite` when it has exactly `size` hosts (else it is stopped and undefined). */
export async function takeSharedFleet(size: number): Promise<FleetLease | undefined> {
  const lease = kept;
  kept = undefined;
  if (!lease) return undefined;
  if (lease.bench.fleet.size === size) return lease;
  await lease.bench.close();
  return undefined;
}

/** `suite`'s fleet bench: the one the suite before left (online check only), or its own, started and registered. */
export async function leaseFleetBench(suite: ChainSuite, size: number, prefix: string, cpArgs: string[], log: (msg: string) => void): Promise<FleetLease> {
  const lease = await takeSharedFleet(size);
  if (!lease) return { bench: await startFleetBench(size, prefix, cpArgs, log), cpArgs, before: [] };
  log(`on the shared CP and ${size} open tunnels of ${lease.before.join(' → ')}`);
  try {
    await timedSetup(() => waitUntil(`${size} hosts online`, async () => (await lease.bench.online()) >= size, 60_000, 250));
  } catch (err) {
    await lease.bench.close();
    throw err;
  }
  return lease;
}

/** Says, for a suite's notes, whether it ran on the shared CP. */
export function sharedNote(suite: ChainSuite, lease: FleetLease): string {
  const on = lease.before.length
    ? `ran on the shared CP: the same CP process and its ${lease.bench.fleet.size} open tunnels that ${lease.before.join(' → ')} ran on (no set-up of its own)`
    : 'set up its own CP and fleet';
  return handsOver(suite) ? `${on}; the CP and its tunnels were left open for the next suite` : on;
}

/** Hands the lease to the next suite of the chain when the plan has one, else stops it; returns the CP's top self time when profiled. */
export async function releaseFleetBench(suite: ChainSuite, lease: FleetLease, ok: boolean): Promise<string[]> {
  if (ok && handsOver(suite)) {
    kept = { ...lease, before: [...lease.before, suite] };
    return [];
  }
  return lease.bench.close();
}

/** Stops a fleet no suite took (the next one failed before it could, or the run ended); the runner calls it at the end. */
export async function closeSharedFleet(): Promise<void> {
  const lease = kept;
  kept = undefined;
  await lease?.bench.close();
}

const connectedAtCp = async (admin: OperatorClient): Promise<number> => (await admin.hosts()).filter((h) => h.connected).length;

/** The reconnect storm's CP and durable fleet when the chain left them: restartable on its port, tunnels adopted. */
export interface SharedStorm {
  cp: RestartableCp;
  fleet: Fleet;
  note: string;
  close(): Promise<void>;
}

/** The storm on the shared fleet of `daimons` hosts, if the suite before left one: each open tunnel becomes a durable sim of its host, no reconnect. */
export async function takeSharedStorm(daimons: number, log: (msg: string) => void): Promise<SharedStorm | undefined> {
  const lease = await takeSharedFleet(daimons);
  if (!lease) return undefined;
  const { bench, before } = lease;
  const cp = restartableFrom(bench.cp, lease.cpArgs);
  const close = (): Promise<void> => timedTeardown(async () => {
    await bench.fleet.close();
    await cp.close();
  });
  try {
    log(`on the shared CP and ${daimons} open tunnels of ${before.join(' → ')}: each tunnel handed to a durable sim`);
    const adoptMs = await timedSetup(async () => {
      const t0 = performance.now();
      const n = await bench.fleet.adoptDurable(DAIMON_BACKOFF);
      if (n !== daimons) throw new Error(`only ${n} of ${daimons} shared tunnels were still open`);
      await waitUntil(`${daimons} hosts connected`, async () => (await connectedAtCp(cp.admin)) === daimons, 60_000, 250);
      return performance.now() - t0;
    });
    const note = `ran on the shared CP: the same CP process (its state holding what ${before.join(' → ')} did) and its ${daimons} open tunnels; each tunnel handed to a durable sim of its host in ${round(adoptMs / 1000, 1)} s, without reconnecting; ${bench.setupNote}`;
    return { cp, fleet: bench.fleet, note, close };
  } catch (err) {
    await close();
    throw err;
  }
}
