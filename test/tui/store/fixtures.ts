import type { HostView, RunView, StreamMessage } from '../../../src/protocol/api.js';
import type { StoredFinding } from '../../../src/protocol/finding.js';
import type { TriageView } from '../../../src/protocol/findings-api.js';
import type { OrchestrationRunView } from '../../../src/protocol/orchestration-api.js';
import type { DataEvent } from '../../../tui/store/events.js';
import { emptySummary } from '../../../tui/store/initial-state.js';

/** A stored finding with `id`; fields overridable. */
export function finding(id: number, over: Partial<StoredFinding> = {}): StoredFinding {
  return {
    id, fingerprint: `fp-${id}`, host: 'web-01', agent: 'proc-audit', agent_version: '1', run_id: `run-${id}`, seq: id,
    ts: 1000 + id, received_at: 1000 + id, status: 'open', indicators: [], severity: 'HIGH', title: `finding ${id}`,
    category: 'process', resource: '', evidence: [], dedup_key: '', tags: [], attributes: {}, ...over,
  };
}

/** A host row. */
export function host(hostname: string, over: Partial<HostView> = {}): HostView {
  return {
    hostname, state: 'online', last_heartbeat: 1000, heartbeat_seq: 1, version: '0.1.0', os: 'linux', arch: 'x64',
    transport: 'ws', path: 'tunnel', poll_ms: null, heartbeat_interval_ms: 5000, connected: true, labels: {}, running: 0, spool_depth: 0, registered_at: 0, cert_issued_at: null, cert_expires_at: null, rollout: null, ...over,
  };
}

/** An ad-hoc run created at `created_at`. */
export function run(id: string, created_at: number, over: Partial<RunView> = {}): RunView {
  return {
    run_id: id, host: 'web-01', agent: 'proc-audit', prompt: '', status: 'running', created_at, started_at: null,
    ended_at: null, timeout_ms: 60_000, error: null, findings: 0, events: 0, created_by: 'alice', route: null, ...over,
  };
}

/** An orchestration run created at `created_at`. */
export function orchRun(id: string, created_at: number, over: Partial<OrchestrationRunView> = {}): OrchestrationRunView {
  return {
    id, name: 'contain', status: 'running', trigger: {}, triggered_by: 'alice', created_at, updated_at: created_at,
    ended_at: null, error: null, steps: [], ...over,
  };
}

/** A triage decision. */
export function triage(f: StoredFinding, status: TriageView['status'], scope: TriageView['scope'] = 'finding'): TriageView {
  return { finding_id: f.id, fingerprint: f.fingerprint, scope, status, reason: '', updated: 1, by: 'alice', role: 'operator', ts: 5 };
}

/** A stream event of `messages`. */
export function stream(...messages: StreamMessage[]): DataEvent {
  return { type: 'stream', messages, at: 42 };
}

/** Stream `finding` messages, cursor = id + `offset`. */
export function findingMessages(findings: StoredFinding[], offset = 0): StreamMessage[] {
  return findings.map((f) => ({ type: 'finding', cursor: f.id + offset, finding: f }));
}

/** A snapshot event with the given parts (the rest empty). */
export function snapshot(over: Partial<Extract<DataEvent, { type: 'snapshot' }>> = {}): DataEvent {
  return {
    type: 'snapshot', at: 100, me: { name: 'alice', role: 'operator' }, hosts: [], summary: emptySummary(), findings: [],
    cursor: 0, groups: [], clusters: [], runs: [], orchestrationRuns: [], orchestrations: [], agents: [], ...over,
  };
}
