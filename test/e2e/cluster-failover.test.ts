import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView, StreamMessage } from '../../src/protocol/api.js';
import type { OrchestrationRunView } from '../../src/protocol/orchestration-api.js';
import { replicasResponseSchema, type ReplicasResponse } from '../../src/protocol/replicas.js';
import type { OperatorClient } from '../../src/transport/operator-client.js';
import { openStream } from '../../src/transport/stream-client.js';
import { startCluster, type TestCluster } from '../support/cluster.js';
import { okesuJson, runOkesu, spawnOkesu, stop, tempDir, waitFor, TEST_AGENTS, type OkesuProcess } from './harness.js';

// Three replicas behind HAProxy and four real daimons (their spools are what makes a replica's death lossless).
const HOSTS = ['fo-1', 'fo-2', 'fo-3', 'fo-4'];
const LEASE_TTL_MS = 3000;
let cluster: TestCluster;
let db: pg.Client;
let specs: string;
const daimons: OkesuProcess[] = [];
const daimonDirs: string[] = [];
/** When the cron orchestration was applied: every slot after it fires exactly once. */
let cronAppliedAt = 0;

const replicasNow = async (): Promise<ReplicasResponse> => {
  const r = await runOkesu(['cp', 'replicas', '--json'], cluster.env);
  if (r.code !== 0) throw new Error(r.stderr);
  return replicasResponseSchema.parse(JSON.parse(r.stdout));
};
const spec = (name: string, lines: string[]): string => {
  const file = join(specs, `${name}.yaml`);
  writeFileSync(file, [`name: ${name}`, ...lines, ''].join('\n'));
  return file;
};
/** One long-lived operator client through the balancer, as the console keeps one (its pooled connections meet replica deaths). */
let client: OperatorClient;
const api = (): OperatorClient => client;
const orchRun = (id: string) => okesuJson<OrchestrationRunView>(['orchestrate', 'show', id], cluster.env);
const until = (id: string, status: OrchestrationRunView['status'], timeoutMs = 60_000) =>
  waitFor(`orchestration run ${id} ${status}`, async () => {
    const run = await orchRun(id);
    return run.status === status ? run : undefined;
  }, timeoutMs, 250);
const allConnected = async (): Promise<boolean> => (await api().hosts()).filter((h) => HOSTS.includes(h.hostname) && h.connected).length === HOSTS.length;
/** Reads the store directly: where tunnels are and how far runs got, without waiting on a busy replica's API. */
const query = async <T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> => (await db.query<T>(text, values)).rows;

beforeAll(async () => {
  cluster = await startCluster({ replicas: 3, leaseTtl: `${LEASE_TTL_MS / 1000}s`, extraArgs: ['--heartbeat-interval', '1s'] });
  client = cluster.client();
  db = new pg.Client({ connectionString: cluster.database.url });
  await db.connect();
  specs = tempDir('cluster-specs');
  const token = (await api().createToken({ kind: 'join', uses: HOSTS.length })).token;
  for (const host of HOSTS) {
    daimonDirs.push(tempDir(host));
    daimons.push(spawnOkesu(['daemon', '--cp', cluster.balancerUrl, '--token', token, '--state', daimonDirs.at(-1)!, '--hostname', host, '--agents', TEST_AGENTS, '--log-level', 'warn']));
  }
  await waitFor('four daimons connected', allConnected, 60_000, 250);
  // A trigger every minute, applied now: it keeps firing through everything below, and no slot may fire twice.
  const cron = spec('fo-cron', ['triggers:', '  - cron: "* * * * *"', 'steps:', '  - { id: tick, agent: orch-echo, node: fo-1, inputs: { x: cron } }']);
  const applied = await runOkesu(['orchestrate', 'apply', cron], cluster.env);
  if (applied.code !== 0) throw new Error(applied.stderr);
  cronAppliedAt = Date.now();
}, 180_000);

afterAll(async () => {
  await Promise.all(daimons.map((d) => stop(d, 'SIGKILL')));
  await db?.end();
  await cluster?.stop();
  for (const dir of [specs, ...daimonDirs]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a cluster of three replicas losing replicas', () => {
  it('a replica SIGKILLed mid-ingest: its daimons reconnect to the others and every event is stored exactly once', async () => {
    const COUNT = 3000;
    const runs = await Promise.all(
      HOSTS.map((host) => api().createRun({ agent: 'flood', host, inputs: { count: COUNT, batch: 25, every_ms: 50 } })),
    );
    const runIds = runs.map((r) => r.run_id);
    // The victim: a follower holding tunnels (the leader's death is the next test's), chosen from the store's tunnel directory.
    const leader = (await query<{ holder: string }>(`SELECT holder FROM leases WHERE name = 'leader'`))[0]?.holder;
    const placed = await query<{ replica_id: string; n: string }>('SELECT replica_id, count(*) AS n FROM hosts WHERE replica_id IS NOT NULL GROUP BY replica_id ORDER BY n DESC');
    const victimId = placed.find((p) => p.replica_id !== leader)?.replica_id;
    const victim = cluster.replicas.find((r) => r.id === victimId);
    if (!victim) throw new Error(`no follower holds a tunnel (leader ${leader}): ${JSON.stringify(placed)}`);
    // An operator's live stream on the victim: after its death it resumes on another replica from its cursor.
    const seen: number[] = [];
    const onFinding = (m: StreamMessage): void => void (m.type === 'finding' && seen.push(m.cursor));
    const onVictim = openStream({ ...cluster.admin, cp: victim.url }, { kinds: ['finding'], after: 0, onMessage: onFinding });

    // Mid-ingest: every run on the victim's hosts has findings stored and more to come when it dies.
    const onIt = await waitFor('the victim\'s runs under way', async () => {
      const rows = await query<{ host: string; status: string; findings: string }>(
        'SELECT r.host, r.status, r.findings FROM runs r JOIN hosts h ON h.hostname = r.host WHERE h.replica_id = $1 AND r.run_id = ANY($2)', [victim.id, runIds]);
      return rows.length > 0 && rows.every((r) => Number(r.findings) >= 100) ? rows : undefined;
    }, 60_000, 50);
    await victim.kill('SIGKILL');
    expect(onIt.filter((r) => r.status !== 'running' || Number(r.findings) >= COUNT), 'the victim\'s runs had ended before it died').toEqual([]);
    const cursor = onVictim.cursor();
    onVictim.close();
    const resumed = openStream(cluster.admin, { kinds: ['finding'], after: cursor ?? 0, onMessage: onFinding });

    await waitFor('every daimon back on the other replicas', async () => {
      const v = await cluster.view();
      const others = v.replicas.filter((r) => r.id !== victim.id).reduce((n, r) => n + r.tunnels, 0);
      return others === HOSTS.length && (await allConnected());
    }, 60_000, 250);
    const done = await waitFor('every flood run ended', async () => {
      const now = await Promise.all(runIds.map((id) => api().getRun(id)));
      return now.every((r) => r.ended_at !== null) ? now : undefined;
    }, 120_000, 500);
    expect(done.map((r) => [r.host, r.status])).toEqual(HOSTS.map((h) => [h, 'completed']));
    expect(done.map((r) => r.findings)).toEqual(HOSTS.map(() => COUNT));
    const summary = await api().findingsSummary();
    expect(summary.total).toBe(COUNT * HOSTS.length);
    // Every run's events, paged from the store: seqs 1..last (a daimon numbers from 1) each exactly once.
    for (const run of done) {
      const seqs = await allEventSeqs(run);
      expect(new Set(seqs).size, `${run.host}: doubled events`).toBe(seqs.length);
      expect(seqs[0]).toBe(1);
      expect(seqs.length, `${run.host}: lost events`).toBe(seqs.at(-1));
      expect(seqs.length).toBe(run.events);
    }
    // The stream, across the victim's death and a resume through the balancer: every finding once, in cursor order.
    await waitFor('the stream caught up', () => seen.length >= COUNT * HOSTS.length, 60_000, 100);
    resumed.close();
    expect(seen).toHaveLength(COUNT * HOSTS.length);
    expect(seen).toEqual([...seen].sort((x, y) => x - y));
    expect(new Set(seen).size).toBe(seen.length);

    await victim.restart();
    await cluster.waitForLeader();
  }, 240_000);

  it('leader failover: another replica leads within the lease, a waiting approval is given through the balancer and the run completes', async () => {
    const gated = spec('fo-gated', [
      'steps:',
      '  - { id: first, agent: orch-echo, node: fo-2, inputs: { x: before } }',
      '  - { id: gate, agent: orch-echo, node: fo-3, inputs: { x: "{{first.result.x}}-after" }, approval: required }',
    ]);
    const applied = await runOkesu(['orchestrate', 'apply', gated], cluster.env);
    expect(applied.code, applied.stderr).toBe(0);
    const started = await runOkesu(['orchestrate', 'run', 'fo-gated', '--json'], cluster.env);
    expect(started.code, started.stderr).toBe(0);
    const runId = (JSON.parse(started.stdout) as OrchestrationRunView).id;
    await until(runId, 'approval_required');

    const before = await replicasNow();
    const oldLeader = before.replicas.find((r) => r.leader)?.id;
    const leader = cluster.replicas.find((r) => r.id === oldLeader)!;
    const killedAt = Date.now();
    await leader.kill('SIGKILL');
    const after = await waitFor('a new leader', async () => {
      const v = await replicasNow();
      const leaders = v.replicas.filter((r) => r.leader);
      return leaders.length === 1 && leaders[0]?.id !== oldLeader ? v : undefined;
    }, LEASE_TTL_MS + 15_000, 200);
    const tookMs = Date.now() - killedAt;
    expect(tookMs, `took ${tookMs} ms`).toBeLessThan(LEASE_TTL_MS + 5000);
    expect(after.replicas.filter((r) => r.leader)).toHaveLength(1);

    const approved = await runOkesu(['orchestrate', 'approve', runId, 'gate', '--reason', 'after failover'], cluster.env);
    expect(approved.code, approved.stderr).toBe(0);
    const done = await until(runId, 'completed');
    expect(done.steps.find((s) => s.id === 'gate')).toMatchObject({ status: 'completed', result: { x: 'before-after', host: 'fo-3' } });

    // The cron trigger: the new leader fires the next slot, and no slot was ever fired twice.
    await waitFor('a cron slot fired by the new leader', async () => (await cronRuns()).some((r) => slotOf(r) > killedAt), 75_000, 1000);
    const slots = (await cronRuns()).map(slotOf);
    expect(slots.length).toBeGreaterThanOrEqual(1);
    expect(new Set(slots).size, `slots: ${slots.join(',')}`).toBe(slots.length);
    expect(slots.every((s) => s > cronAppliedAt - 60_000 && s % 60_000 === 0)).toBe(true);

    await leader.restart();
    await cluster.waitForLeader();
  }, 240_000);
});

const cronRuns = async (): Promise<OrchestrationRunView[]> =>
  (await api().listOrchestrationRuns({ limit: 1000 })).filter((r) => r.name === 'fo-cron');
const slotOf = (r: OrchestrationRunView): number => Number(r.trigger.scheduled_at);

/** Every stored event seq of a run, paged through `GET /v1/runs/:id/events`. */
async function allEventSeqs(run: RunView): Promise<number[]> {
  const seqs: number[] = [];
  let after = 0;
  for (;;) {
    const page = await api().runEvents(run.run_id, after, 0);
    if (page.events.length === 0) break;
    seqs.push(...page.events.map((e) => e.seq));
    after = page.next;
  }
  return seqs.sort((x, y) => x - y);
}
