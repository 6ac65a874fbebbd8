import type { ClusterBench } from '../lib/cluster-process.js';
import { sleep, waitUntil } from '../lib/stats.js';
import { DAIMON_BACKOFF } from '../sim/durable-sim.js';
import { startFleet, type Fleet } from '../sim/fleet.js';
import { storedFindings } from './reconnect-storm.js';

/** The durable sims' agent name (durable-sim.ts): their findings are told apart from the ingest phase's by it. */
const STORM_AGENT = 'bench-storm';

/** What killing one replica under a streaming fleet did. */
export interface ReplicaKill {
  killed: string;
  wasLeader: boolean;
  /** Tunnels the killed replica held just before the kill (GET /v1/replicas). */
  itsTunnels: number;
  /** Kill → every sim welcomed again and the API listing every host connected, ms. */
  allOnlineMs: number;
  /** Kill → the surviving replica holds the lease (it was already leader when the follower was killed), ms. */
  leaderMs: number;
  emitted: number;
  resent: number;
  lost: number;
  doubled: number;
  reconnects: number;
  failedAttempts: number;
  registerMs: number;
}

/**
 * Issue 16's failover: `daimons` durable sims (the daimon's backoff, events kept until acked and resent after a
 * reconnect) stream `rate` findings/s through the balancer over both replicas; the leader replica is SIGKILLed; its
 * daimons find the survivor through HAProxy. Counts what the sims emitted against what the store holds.
 */
export async function killReplica(cluster: ClusterBench, daimons: number, rate: number, steadyMs: number, log: (msg: string) => void): Promise<ReplicaKill> {
  let fleet: Fleet | undefined;
  try {
    fleet = await startFleet(daimons, 'kill');
    const token = await cluster.admin.createToken({ kind: 'join', uses: daimons, name: 'bench-kill', ttl_ms: 3_600_000 });
    const registerMs = await fleet.register({ host: '127.0.0.1', port: cluster.port, ca: cluster.config.ca }, token.token);
    await fleet.startDurable(daimons, DAIMON_BACKOFF);
    const names = new Set(fleet.hostnames);
    const connected = async (): Promise<number> => (await cluster.admin.hosts()).filter((h) => names.has(h.hostname) && h.connected).length;
    await waitUntil(`${daimons} durable hosts connected`, async () => (await connected()) === daimons, 120_000, 200);
    fleet.emitDurable(rate);
    await sleep(steadyMs);

    const before = await cluster.view();
    const leader = before.replicas.find((r) => r.leader);
    const victim = cluster.replicas.find((r) => r.id === leader?.id) ?? (cluster.replicas[0] as ClusterBench['replicas'][number]);
    const survivor = cluster.replicas.find((r) => r !== victim);
    const itsTunnels = before.replicas.find((r) => r.id === victim.id)?.tunnels ?? 0;
    log(`SIGKILL ${victim.id} (${leader?.id === victim.id ? 'the leader' : 'a follower'}, ${itsTunnels} tunnels) under ${daimons} streaming daimons`);
    const killedAt = Date.now();
    await victim.kill('SIGKILL');
    const fleetRef = fleet;
    // The lease is watched alongside the reconnects: the survivor may lead before or after the last host is back.
    const leading = waitUntil('the survivor to lead', async () => (await cluster.view()).replicas.find((r) => r.id === survivor?.id)?.leader === true, 60_000, 100)
      .then(() => Date.now() - killedAt);
    leading.catch(() => undefined); // awaited below; a failure before that must not go unhandled
    await waitUntil('every sim welcomed again', async () => (await fleetRef.durableStats()).online === daimons, 120_000, 100);
    await waitUntil(`the API to list ${daimons} hosts connected`, async () => (await connected()) === daimons, 120_000, 100);
    const allOnlineMs = Date.now() - killedAt;
    const leaderMs = await leading;

    log('draining: every emitted event acknowledged');
    fleet.emitDurable(0);
    await waitUntil('every event acknowledged', async () => (await fleetRef.durableStats()).pending === 0, 120_000, 200);
    const end = await fleet.durableStats();
    const stored = await storedFindings(cluster.admin, { agent: STORM_AGENT });
    return {
      killed: victim.id, wasLeader: leader?.id === victim.id, itsTunnels, allOnlineMs, leaderMs,
      emitted: end.emitted, resent: end.resent, lost: end.emitted - stored.distinct, doubled: stored.rows - stored.distinct,
      reconnects: end.welcomes - daimons, failedAttempts: end.failedAttempts, registerMs,
    };
  } finally {
    await fleet?.close();
  }
}

