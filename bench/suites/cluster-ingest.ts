import { newId } from '../../src/protocol/ids.js';
import { postgresCpuSeconds, type ClusterBench } from '../lib/cluster-process.js';
import { sampleProcess, type ProcSummary } from '../lib/proc-sampler.js';
import type { HostIdentity } from '../lib/register-host.js';
import { connectDaimon, countCpAcks, findingFrameBuilder, Streamer } from '../lib/sim-daimon.js';
import { sleep, waitUntil } from '../lib/stats.js';

/**
 * Smaller than the ingest suite's 500 per frame and 5,000 in flight: a PostgreSQL store takes records an order of
 * magnitude slower than SQLite, and what is in flight at the end of the window must drain within the suite's budget.
 */
export const RECORDS_PER_FRAME = 100;
export const MAX_IN_FLIGHT = 200;

/** Findings stored per second through the balancer, and each replica's CPU and RSS meanwhile. */
export interface ClusterIngestPhase {
  /** Acknowledged records per second in the measured window. */
  rate: number;
  acked: number;
  /** Per replica (the cluster's order), over the window. */
  replicas: ProcSummary[];
  drainSeconds: number;
  /** Tunnels the cluster closed during the phase. */
  closed: number;
  /** PostgreSQL's CPU (all its processes) over the window, % of a core. */
  postgresPercent: number;
  /** Connections HAProxy held to each replica at the end of the window (the cluster's order). */
  tunnels: number[];
}

/**
 * Streams findings from `identities` (one tunnel each, through the balancer) for `seconds` after `warmupMs`, then waits
 * until every sent record was acknowledged. Only the replicas HAProxy lets in take tunnels; the caller decides which.
 */
export async function clusterIngest(cluster: ClusterBench, identities: HostIdentity[], seconds: number, warmupMs: number): Promise<ClusterIngestPhase> {
  const tunnels = await Promise.all(identities.map((id) => connectDaimon(cluster.port, id)));
  try {
    const names = new Set(identities.map((i) => i.hostname));
    await waitUntil('the ingest hosts online', async () => (await cluster.admin.hosts()).filter((h) => names.has(h.hostname) && h.connected).length === names.size, 30_000, 200);
    const streamers = tunnels.map((t) => new Streamer(t.ws, findingFrameBuilder(newId('r'), RECORDS_PER_FRAME), RECORDS_PER_FRAME, MAX_IN_FLIGHT, countCpAcks));
    for (const s of streamers) s.start();
    await sleep(warmupMs);
    const total = (): number => streamers.reduce((a, s) => a + s.acked, 0);
    const samplers = cluster.replicas.map((r) => sampleProcess(r.proc.pid));
    const pg0 = postgresCpuSeconds(cluster.postgres);
    const from = total();
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const window = total() - from;
    const elapsed = (performance.now() - t0) / 1000;
    const replicas = samplers.map((s) => s.stop());
    const postgresPercent = ((postgresCpuSeconds(cluster.postgres) - pg0) / elapsed) * 100;
    const held = await cluster.balancer.sessions();
    const d0 = performance.now();
    await Promise.all(streamers.map((s) => s.drain()));
    return { rate: window / elapsed, acked: total(), replicas, drainSeconds: (performance.now() - d0) / 1000, closed: streamers.filter((s) => s.closedWith).length, postgresPercent, tunnels: held };
  } finally {
    for (const t of tunnels) t.close();
  }
}
