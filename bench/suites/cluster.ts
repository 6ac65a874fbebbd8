import type { BenchFigure, BenchResult, BenchSuite } from '../lib/types.js';
import { postgresCpuSeconds, startClusterBench, type ClusterBench } from '../lib/cluster-process.js';
import { registerHost, type HostIdentity } from '../lib/register-host.js';
import { createOperatorClient } from '../../src/transport/operator-client.js';
import { sampleProcess } from '../lib/proc-sampler.js';
import { p50p99, round, sleep, waitUntil } from '../lib/stats.js';
import { startFleet, type Fleet } from '../sim/fleet.js';
import { timedSetup, timedTeardown } from '../lib/setup-clock.js';
import { clusterIngest, MAX_IN_FLIGHT, RECORDS_PER_FRAME, type ClusterIngestPhase } from './cluster-ingest.js';
import { killReplica } from './cluster-kill.js';

const REPLICAS = 2;
const TARGET_P99_MS = 100;
const TARGET_ACK_MS = 3000;
const AGENT = 'bench-trivial';

/** Sizes of each part: the full run keeps the whole suite near 3 minutes on two cores, the quick one near 30 s. */
function plan(quick: boolean): { fleet: number; heartbeatMs: number; ingestDaimons: number; ingestSeconds: number; killDaimons: number; killRate: number } {
  return quick
    ? { fleet: 100, heartbeatMs: 1000, ingestDaimons: 6, ingestSeconds: 1, killDaimons: 50, killRate: 100 }
    : { fleet: 5000, heartbeatMs: 5000, ingestDaimons: 20, ingestSeconds: 8, killDaimons: 1000, killRate: 300 };
}

/** Registers `n` hosts through the balancer, ten at a time (as the ingest suite). */
async function registerSome(cluster: ClusterBench, prefix: string, n: number): Promise<HostIdentity[]> {
  const token = await cluster.admin.createToken({ kind: 'join', uses: n, name: `bench-${prefix}`, ttl_ms: 3_600_000 });
  const target = { host: '127.0.0.1', port: cluster.port, ca: cluster.config.ca };
  const out: HostIdentity[] = [];
  for (let i = 0; i < n; i += 10) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(10, n - i) }, (_, k) => registerHost(target, `${prefix}-${String(i + k).padStart(4, '0')}`, token.token)))));
  }
  return out;
}

const cpus = (p: ClusterIngestPhase): string => p.replicas.map((r) => `${round(r.cpuPercent, 0)} %`).join(' / ');

/**
 * Issue 16: the control plane as 2 replicas over PostgreSQL + NATS behind HAProxy (TCP mode), everything on this
 * machine: heartbeats of a simulated fleet spread over both, ingest with 1 and 2 replicas taking tunnels, a fan-out
 * through the balancer, and SIGKILL of the leader replica under streaming daimons.
 */
export const suite: BenchSuite = {
  name: 'cluster',
  async run({ quick, log }): Promise<BenchResult> {
    const p = plan(quick);
    const figures: BenchFigure[] = [];
    const notes: string[] = [];
    log(`starting PostgreSQL, NATS, ${REPLICAS} replicas and HAProxy`);
    const t0 = performance.now();
    const cluster = await timedSetup(() => startClusterBench({ replicas: REPLICAS, cpArgs: ['--heartbeat-interval', `${p.heartbeatMs / 1000}s`], maxconn: p.fleet + p.killDaimons + 1000 }));
    notes.push(`cluster up (PostgreSQL 15 with fsync off, nats-server, ${REPLICAS} × okesu cp serve, HAProxy 2.6 TCP leastconn) in ${round((performance.now() - t0) / 1000, 1)} s, all on this machine`);
    let fleet: Fleet | undefined;
    try {
      // 2. Ingest: the same daimons first through one replica (HAProxy keeps the other out), then through both.
      const ids = await registerSome(cluster, 'ing', p.ingestDaimons);
      await cluster.balancer.disableBackend(1);
      log(`ingest: ${p.ingestDaimons} daimons → 1 replica, ${p.ingestSeconds} s`);
      const one = await clusterIngest(cluster, ids, p.ingestSeconds, 1000);
      await cluster.balancer.enableBackend(1);
      await cluster.balancer.waitForStatus(1, 'UP');
      log(`ingest: ${p.ingestDaimons} daimons → 2 replicas, ${p.ingestSeconds} s`);
      const two = await clusterIngest(cluster, ids, p.ingestSeconds, 1000);
      const summary = await cluster.admin.findingsSummary({ agent: 'bench-edr' });
      const exact = summary.total === one.acked + two.acked;
      figures.push(
        { name: 'ingest, 1 replica taking tunnels: findings stored /s', value: round(one.rate, 0), unit: 'findings/s' },
        { name: 'ingest, 2 replicas taking tunnels: findings stored /s', value: round(two.rate, 0), unit: 'findings/s', baseline: { name: '1 replica', value: round(one.rate, 0), ratio: round(two.rate / one.rate, 2) } },
        { name: 'ingest findings acked = stored', value: summary.total, unit: 'findings', target: `= ${one.acked + two.acked}`, met: exact },
      );
      notes.push(
        `ingest: ${p.ingestDaimons} daimons, ${RECORDS_PER_FRAME} findings per frame, ≤ ${MAX_IN_FLIGHT} un-acknowledged each, ${p.ingestSeconds} s window after 1 s warm-up; with 1 replica taking tunnels: HAProxy connections per replica ${one.tunnels.join(' / ')}, replicas' CPU ${cpus(one)}, PostgreSQL ${round(one.postgresPercent, 0)} %; with 2: connections ${two.tunnels.join(' / ')}, CPU ${cpus(two)}, PostgreSQL ${round(two.postgresPercent, 0)} %; drain ${round(one.drainSeconds, 1)} / ${round(two.drainSeconds, 1)} s; tunnels closed by the cluster ${one.closed} / ${two.closed}`,
        'ingest "1 replica": HAProxy holds the second replica out of new connections (it still runs, heartbeats its membership and may lead); every write of either goes through the one PostgreSQL writer lock',
      );

      // 1. Heartbeats of a fleet spread over both replicas.
      fleet = await startFleet(p.fleet, 'clu');
      const token = await cluster.admin.createToken({ kind: 'join', uses: p.fleet, name: 'bench-clu', ttl_ms: 3_600_000 });
      log(`registering ${p.fleet} hosts through the balancer from ${fleet.children} simulator processes`);
      const registerMs = await fleet.register({ host: '127.0.0.1', port: cluster.port, ca: cluster.config.ca }, token.token);
      log(`connecting ${p.fleet} tunnels`);
      const c0 = performance.now();
      const c = await fleet.connect(p.fleet);
      if (c.failures > 0) throw new Error(`${c.failures} tunnels failed to connect; first: ${c.firstError}`);
      const names = new Set(fleet.hostnames);
      await waitUntil(`${p.fleet} hosts online`, async () => (await cluster.admin.hosts()).filter((h) => names.has(h.hostname) && h.state === 'online').length === p.fleet, 120_000, 250);
      const onlineMs = performance.now() - c0;
      await sleep(Math.min(p.heartbeatMs, 2000));
      fleet.record(true);
      const samplers = cluster.replicas.map((r) => sampleProcess(r.proc.pid, 500));
      const pg0 = postgresCpuSeconds(cluster.postgres);
      await sleep(2 * p.heartbeatMs + 500);
      const procs = samplers.map((s) => s.stop());
      const pgPercent = ((postgresCpuSeconds(cluster.postgres) - pg0) / (procs[0]?.seconds ?? 1)) * 100;
      fleet.record(false);
      const stats = await fleet.stats();
      const view = await cluster.view();
      const { p50, p99 } = p50p99(stats.rttMs);
      log(`N=${p.fleet}: rtt p50 ${round(p50, 2)} ms p99 ${round(p99, 2)} ms; tunnels ${view.replicas.map((r) => `${r.id} ${r.tunnels}`).join(', ')}`);
      figures.push(
        { name: 'registrations /s through the balancer', value: round(p.fleet / (registerMs / 1000), 0), unit: 'hosts/s' },
        { name: `N=${p.fleet} time to connect (all online)`, value: round(onlineMs / 1000, 2), unit: 's' },
        { name: `N=${p.fleet} heartbeat RTT p50`, value: round(p50, 2), unit: 'ms' },
        { name: `N=${p.fleet} heartbeat RTT p99`, value: round(p99, 2), unit: 'ms', target: `< ${TARGET_P99_MS} ms`, met: p99 < TARGET_P99_MS },
      );
      for (const [i, r] of cluster.replicas.entries()) {
        const v = view.replicas.find((x) => x.id === r.id);
        const proc = procs[i];
        figures.push(
          { name: `N=${p.fleet} ${r.id} tunnels (GET /v1/replicas)`, value: v?.tunnels ?? 0, unit: 'tunnels' },
          { name: `N=${p.fleet} ${r.id} RSS (max)`, value: round(proc?.rssMaxMiB ?? 0, 0), unit: 'MiB' },
          { name: `N=${p.fleet} ${r.id} CPU`, value: round(proc?.cpuPercent ?? 0, 1), unit: '% of a core' },
        );
      }
      figures.push({ name: `N=${p.fleet} PostgreSQL CPU (all its processes)`, value: round(pgPercent, 1), unit: '% of a core' });
      notes.push(
        `heartbeats: ${p.fleet} hosts registered through the balancer in ${round(registerMs / 1000, 1)} s, connected in ${round(c.ms / 1000, 1)} s; heartbeat every ${p.heartbeatMs} ms, ${stats.rttMs.length} round trips over 2 intervals; RTT = heartbeat sent → heartbeat_ack received on the simulator (through HAProxy), as tunnel-capacity; ${stats.connected} tunnels open at the end (${stats.closed} closed)`,
        `N=${p.fleet}: GET /v1/replicas answered by ${view.answered_by}, leader ${view.replicas.find((r) => r.leader)?.id ?? 'none'}`,
      );

      // 3. One fan-out through the balancer to every host of the fleet, whichever replica holds its tunnel.
      log(`fan-out: one POST /v1/runs to ${p.fleet} hosts through the balancer`);
      const f0 = Date.now();
      // A fresh connection: the kept-alive one idled through the heartbeat window and may be closing as it is reused.
      const answer = await createOperatorClient(cluster.config, { timeoutMs: 120_000 }).createRuns({ agent: AGENT, hosts: fleet.hostnames, prompt: '', dispatch: 'tunnel', timeout_ms: 60_000 });
      const postMs = Date.now() - f0;
      if (answer.runs.length !== p.fleet) throw new Error(`the fan-out answered ${answer.runs.length} runs; expected ${p.fleet}`);
      // A dispatch the cluster could not hand over (e.g. the bus request to the holding replica timed out) is counted, not fatal.
      const sent = p.fleet - answer.failed;
      const fleetRef = fleet;
      const final = await waitUntil('every dispatched run acknowledged and ended', async () => {
        const s = await fleetRef.dispatchStats();
        return s.ackAt.length >= sent && s.endAckAt.length >= sent ? s : undefined;
      }, 120_000, 100);
      const last = (at: number[]): number => (at.length ? Math.max(...at) - f0 : Number.NaN);
      const lastAck = last(final.ackAt);
      const lastEnd = last(final.endAckAt);
      const why = answer.runs.find((r) => r.error)?.error;
      if (answer.failed > 0) notes.push(`fan-out: ${answer.failed} of ${p.fleet} dispatches failed${why ? ` (first: ${why})` : ''}`);
      figures.push(
        { name: `fan-out: time to last dispatch_ack (${p.fleet} hosts, ${REPLICAS} replicas)`, value: lastAck, unit: 'ms', target: `< ${TARGET_ACK_MS} ms`, met: lastAck < TARGET_ACK_MS },
        { name: `fan-out: time to last run_end stored (${p.fleet} hosts)`, value: lastEnd, unit: 'ms' },
        { name: `fan-out: time to answer the POST (${p.fleet} runs)`, value: postMs, unit: 'ms' },
        { name: 'fan-out: dispatches failed', value: answer.failed, unit: 'runs', target: '= 0', met: answer.failed === 0 },
      );
      notes.push('fan-out: the replica that takes the POST creates every run in one transaction, sends to its own tunnels and hands the others to the replica holding them over NATS (remote route); times from the POST, epoch ms on one machine');
      await fleet.close();
      fleet = undefined;

      // 4. SIGKILL of the leader replica under streaming daimons.
      const k = await killReplica(cluster, p.killDaimons, p.killRate, quick ? 1500 : 5000, log);
      figures.push(
        { name: `replica kill: SIGKILL → all ${p.killDaimons} hosts online again`, value: round(k.allOnlineMs / 1000, 2), unit: 's' },
        { name: 'replica kill: SIGKILL → survivor leads', value: round(k.leaderMs / 1000, 2), unit: 's' },
        { name: 'replica kill: events lost', value: k.lost, unit: 'events', target: '= 0', met: k.lost === 0 },
        { name: 'replica kill: events stored twice', value: k.doubled, unit: 'events', target: '= 0', met: k.doubled === 0 },
      );
      notes.push(
        `replica kill: ${p.killDaimons} durable sims (the daimon's backoff: full jitter from 500 ms; findings kept until acknowledged, resent after a reconnect) at ${p.killRate} findings/s fleet-wide; SIGKILL to ${k.killed} (${k.wasLeader ? 'the leader' : 'a follower'}, holding ${k.itsTunnels} tunnels); HAProxy checks every 500 ms (down after 2 failures) and redispatches refused connections; ${k.reconnects} reconnects, ${k.failedAttempts} failed attempts; emitted ${k.emitted}, resent ${k.resent}; stored counted through paged GET /v1/findings?agent=bench-storm`,
        'all online = every sim welcomed again and GET /v1/hosts listing all of them connected (polled every 100 ms); the lease TTL is 3 s (--lease-ttl 3s)',
      );
      return { suite: 'cluster', params: { replicas: REPLICAS, ...p, quick }, figures, notes };
    } catch (err) {
      // Say which replica died (only the kill phase kills one, after which nothing here throws on its account).
      const dead = cluster.replicas.filter((r) => r.proc.child.exitCode !== null || r.proc.child.signalCode !== null);
      const tails = dead.map((r) => `${r.id} exited (${r.proc.child.exitCode ?? r.proc.child.signalCode}): ${r.proc.stderr().slice(-3000)}`);
      if (tails.length) log(tails.join('\n'));
      throw err;
    } finally {
      await timedTeardown(async () => {
        await fleet?.close();
        await cluster.close();
      });
    }
  },
};

