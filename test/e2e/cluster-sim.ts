import { registerHost, type HostIdentity } from '../../bench/lib/register-host.js';
import { connectDaimon, type SimTunnel } from '../../bench/lib/sim-daimon.js';
import type { EventRecord } from '../../src/protocol/tunnel.js';
import { record, sendEvents, TestSocket, type Frame } from '../cp/cp-harness.js';
import type { TestCluster } from '../support/cluster.js';

/** A simulated daimon of a test cluster: registered through the balancer, its tunnel on one chosen replica. */
export interface SimHost {
  readonly hostname: string;
  readonly identity: HostIdentity;
  /** Every frame the CP sent after `welcome`. */
  readonly socket: TestSocket;
  readonly tunnel: SimTunnel;
  /** Waits for the `dispatch` of a run (of `runId`, or the next one) and answers `dispatch_ack`; returns its run id. */
  takeDispatch(runId?: string, timeoutMs?: number): Promise<string>;
  /** Sends records and waits for their `ack`. */
  send(records: readonly EventRecord[]): Promise<Frame>;
  /** Runs a dispatched run to completion: run_start, `findings` findings, run_end completed. */
  complete(runId: string, findings: number, agent?: string): Promise<void>;
  close(): void;
}

/** Registers `hostname` through the balancer with `joinToken` and opens its tunnel on the replica at `port`. */
export async function simHost(cluster: TestCluster, hostname: string, joinToken: string, port: number): Promise<SimHost> {
  const balancer = new URL(cluster.balancerUrl);
  const identity = await registerHost({ host: balancer.hostname, port: Number(balancer.port), ca: cluster.admin.ca }, hostname, joinToken);
  const tunnel = await connectDaimon(port, identity);
  const socket = new TestSocket(tunnel.ws);
  const self: SimHost = {
    hostname, identity, socket, tunnel,
    async takeDispatch(runId, timeoutMs = 15_000) {
      const frame = await socket.next((f) => f.type === 'dispatch' && (runId === undefined || (f.envelope as { run_id?: string }).run_id === runId), { timeoutMs });
      const id = (frame.envelope as { run_id: string }).run_id;
      socket.send({ type: 'dispatch_ack', run_id: id, accepted: true });
      return id;
    },
    send: (records) => sendEvents(socket, records),
    async complete(runId, findings, agent = 'edr') {
      const records = [record(runId, 0, { type: 'run_start' }, agent)];
      for (let i = 1; i <= findings; i++) {
        records.push(record(runId, i, { type: 'finding', severity: 'HIGH', title: `${hostname} finding ${i}`, category: 'process', resource: `binary:/usr/bin/x${i}`, dedup_key: `${runId}-${i}` }, agent));
      }
      records.push(record(runId, findings + 1, { type: 'run_end', status: 'completed' }, agent));
      await sendEvents(socket, records);
    },
    close: () => tunnel.close(),
  };
  return self;
}
