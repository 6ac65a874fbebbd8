import { Writable } from 'node:stream';
import { createCertificateAuthority, issueServerCertificate } from '../../src/pki/ca.js';
import type { CliDeps } from '../../src/cli/program.js';
import type { HostView, RunView, TokenView } from '../../src/protocol/api.js';
import type { StoredFinding } from '../../src/protocol/finding.js';

/** A writable that keeps everything written to it. */
export class Capture extends Writable {
  chunks: string[] = [];
  isTTY = false;
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.chunks.push(chunk.toString());
    cb();
  }
  text(): string {
    return this.chunks.join('');
  }
  lines(): string[] {
    return this.text().split('\n').filter((l) => l !== '');
  }
}

/** CLI deps over capturing streams, a fixed clock and an empty environment. */
export function testDeps(overrides: Partial<CliDeps> = {}): CliDeps & { stdout: Capture; stderr: Capture } {
  return { version: '9.9.9', stdout: new Capture(), stderr: new Capture(), env: {}, now: () => NOW, ...overrides } as CliDeps & {
    stdout: Capture;
    stderr: Capture;
  };
}

/** The fixed "now" of CLI tests: 2026-11-24T17:23:19.123Z. */
export const NOW = Date.UTC(2026, 10, 24, 17, 23, 19, 123);

/** A CA and a server certificate for 127.0.0.1 / localhost. */
export async function testPki(): Promise<{ ca: string; cert: string; key: string }> {
  const ca = await createCertificateAuthority({ commonName: 'okesu test CA' });
  const server = await issueServerCertificate(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  return { ca: ca.certPem, cert: server.certPem, key: server.keyPem };
}

/** A valid operator token for client configs. */
export const TOKEN = `okt_${'0123456789abcdef'}_${'ab'.repeat(32)}`;

/** A stored finding with overridable fields. */
export function finding(over: Partial<StoredFinding> = {}): StoredFinding {
  return {
    id: 1, fingerprint: 'fp1', host: 'web-01', agent: 'edr', agent_version: '1.0.0', run_id: 'r_01JD0000000000000000000000',
    seq: 3, ts: NOW, received_at: NOW, status: 'open', indicators: [], severity: 'HIGH', title: 'Reverse shell from nginx',
    category: 'process', resource: 'pid:1337, binary:/usr/bin/nc', evidence: [], dedup_key: '', tags: [], attributes: {},
    ...over,
  };
}

/** A host view with overridable fields. */
export function host(over: Partial<HostView> = {}): HostView {
  return {
    hostname: 'web-01', state: 'online', last_heartbeat: NOW - 3000, heartbeat_seq: 12, version: '0.1.0', os: 'linux', arch: 'x64',
    transport: 'tunnel', path: 'tunnel', poll_ms: null, heartbeat_interval_ms: 5000, connected: true, labels: {}, running: 0, spool_depth: 0, registered_at: NOW - 86_400_000, cert_issued_at: null, cert_expires_at: null, rollout: null, ...over,
  };
}

/** A run view with overridable fields. */
export function runView(over: Partial<RunView> = {}): RunView {
  return {
    run_id: 'r_01JD0000000000000000000000', host: 'web-01', agent: 'edr', prompt: '', status: 'dispatched', created_at: NOW,
    started_at: null, ended_at: null, timeout_ms: 300_000, error: null, findings: 0, events: 0, created_by: 'admin', route: null, ...over,
  };
}

/** A token view with overridable fields. */
export function tokenView(over: Partial<TokenView> = {}): TokenView {
  return {
    id: 'abc123', kind: 'join', role: null, name: '', created_at: NOW, expires_at: NOW + 3_600_000, uses_left: 1, revoked_at: null,
    created_by: 'admin', ...over,
  };
}
