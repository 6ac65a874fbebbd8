import type { DispatchEnvelope } from '../../../src/protocol/dispatch.js';
import type { OrchestrationRunView } from '../../../src/protocol/orchestration-api.js';
import type { EventRecord } from '../../../src/protocol/tunnel.js';
import { hello, record, sendEvents, waitFor, type CpHarness, type HostIdentity, type TestSocket } from '../cp-harness.js';

/** How a simulated daimon answers one dispatch: its result, findings and end status; `hold` leaves it running. */
export interface Answer {
  result?: Record<string, unknown>;
  findings?: Record<string, unknown>[];
  status?: 'completed' | 'failed' | 'cancelled' | 'timeout';
  error?: string;
  /** Refuse the dispatch (dispatch_ack accepted: false). */
  refuse?: string;
  /** Start the run but do not end it (the test ends it with `finish`). */
  hold?: boolean;
}

/** A simulated daimon on a real tunnel: answers each dispatch as `behave` says, records every envelope. */
export class FakeDaimon {
  readonly envelopes: DispatchEnvelope[] = [];
  readonly cancels: string[] = [];
  tunnel!: TestSocket;
  private seq = new Map<string, number>();

  constructor(
    readonly h: CpHarness,
    readonly identity: HostIdentity,
    readonly behave: (env: DispatchEnvelope, host: string) => Answer,
    readonly labels: Record<string, string> = {},
  ) {}

  /** Opens the tunnel (again, after a CP restart) and starts answering. */
  async connect(): Promise<void> {
    const result = await this.h.openTunnel(this.identity);
    if (!result.ok) throw new Error(`tunnel refused: ${JSON.stringify(result.refusal)}`);
    this.tunnel = result.socket;
    await this.tunnel.nextOfType('welcome');
    this.tunnel.send(hello({ labels: this.labels, running: [...this.running()] }));
    this.tunnel.ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { type: string; envelope?: DispatchEnvelope; run_id?: string };
      // A tunnel closed mid-answer (a test restarting the CP) leaves that answer unsent: the point of those tests.
      if (frame.type === 'dispatch' && frame.envelope) this.answer(frame.envelope).catch(() => undefined);
      if (frame.type === 'cancel' && frame.run_id) {
        this.cancels.push(frame.run_id);
        this.finish(frame.run_id, { status: 'cancelled', error: 'cancelled' }).catch(() => undefined);
      }
    });
    // a heartbeat round trip: the hello has been handled when its ack arrives
    this.tunnel.send({ type: 'heartbeat', seq: 1, ts: Date.now(), running: 0, spool_depth: 0 });
    await this.tunnel.nextOfType('heartbeat_ack');
  }

  private readonly held = new Set<string>();
  private running(): Set<string> {
    return this.held;
  }

  private next(runId: string): number {
    const n = (this.seq.get(runId) ?? 0) + 1;
    this.seq.set(runId, n);
    return n;
  }

  private rec(runId: string, body: Record<string, unknown> & { type: string }, agent: string): EventRecord {
    return record(runId, this.next(runId), body, agent);
  }

  private async answer(env: DispatchEnvelope): Promise<void> {
    this.envelopes.push(env);
    const a = this.behave(env, this.identity.hostname);
    if (a.refuse !== undefined) {
      this.tunnel.send({ type: 'dispatch_ack', run_id: env.run_id, accepted: false, error: { code: 'OKS_ERR_AGENT_UNKNOWN', message: a.refuse } });
      return;
    }
    this.tunnel.send({ type: 'dispatch_ack', run_id: env.run_id, accepted: true });
    await sendEvents(this.tunnel, [this.rec(env.run_id, { type: 'run_start' }, env.agent)]);
    if (a.hold) {
      this.held.add(env.run_id);
      return;
    }
    await this.finish(env.run_id, a, env.agent);
  }

  /** Ends a run: its findings, its result, its run_end. */
  async finish(runId: string, a: Answer, agent = this.envelopes.find((e) => e.run_id === runId)?.agent ?? 'edr'): Promise<void> {
    this.held.delete(runId);
    const records: EventRecord[] = [];
    for (const f of a.findings ?? []) records.push(this.rec(runId, { type: 'finding', severity: 'HIGH', title: 'x', category: 'process', ...f }, agent));
    if (a.result) records.push(this.rec(runId, { type: 'orchestration_result', attributes: a.result }, agent));
    records.push(this.rec(runId, { type: 'run_end', status: a.status ?? 'completed', ...(a.error ? { error: a.error } : {}) }, agent));
    await sendEvents(this.tunnel, records);
  }
}

/** Registers and connects simulated daimons. */
export async function fakeDaimons(
  h: CpHarness,
  names: readonly string[],
  behave: (env: DispatchEnvelope, host: string) => Answer,
  labels: (host: string) => Record<string, string> = () => ({}),
): Promise<FakeDaimon[]> {
  const out: FakeDaimon[] = [];
  for (const name of names) {
    const d = new FakeDaimon(h, await h.registerHost(name), behave, labels(name));
    await d.connect();
    out.push(d);
  }
  return out;
}

/** PUT a spec; throws unless 200. */
export async function apply(h: CpHarness, yaml: string, name = /name:\s*(\S+)/.exec(yaml)?.[1] ?? ''): Promise<void> {
  const answer = await h.request('PUT', `/v1/orchestrations/${name}`, { json: { spec: yaml } });
  if (answer.status !== 200) throw new Error(`apply ${name}: HTTP ${answer.status} ${answer.text}`);
}

/** Starts a run (stored name or inline YAML); throws unless 201. */
export async function start(h: CpHarness, body: Record<string, unknown>): Promise<OrchestrationRunView> {
  const answer = await h.request('POST', '/v1/orchestration-runs', { json: body });
  if (answer.status !== 201) throw new Error(`start: HTTP ${answer.status} ${answer.text}`);
  return answer.body as OrchestrationRunView;
}

/** The run as the API shows it now. */
export async function getRun(h: CpHarness, id: string): Promise<OrchestrationRunView> {
  const answer = await h.request('GET', `/v1/orchestration-runs/${id}`);
  if (answer.status !== 200) throw new Error(`get ${id}: HTTP ${answer.status} ${answer.text}`);
  return answer.body as OrchestrationRunView;
}

/** Waits until the run satisfies `pred` (default: it ended); returns it. */
export function waitRun(h: CpHarness, id: string, pred: (r: OrchestrationRunView) => boolean = (r) => ['completed', 'failed', 'cancelled'].includes(r.status), ms = 8000): Promise<OrchestrationRunView> {
  return waitFor(async () => {
    const r = await getRun(h, id);
    return pred(r) ? r : undefined;
  }, ms, `run ${id} to reach the wanted state`);
}

/** The step of a run by id. */
export function stepOf(run: OrchestrationRunView, id: string): OrchestrationRunView['steps'][number] {
  const s = run.steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step ${id}`);
  return s;
}
