import type { HostView } from '../../../src/protocol/api.js';
import { FRAME_NOW } from './frame.js';

/** A host as the CP serves it, heartbeating `ageMs` before FRAME_NOW; fields overridable. */
export function hostAt(hostname: string, ageMs: number, over: Partial<HostView> = {}): HostView {
  return {
    hostname,
    state: 'online',
    last_heartbeat: FRAME_NOW - ageMs,
    heartbeat_seq: 7,
    version: '0.1.0',
    os: 'linux',
    arch: 'x64',
    transport: 'wss', path: 'tunnel', poll_ms: null, heartbeat_interval_ms: 5000,
    connected: true,
    labels: {},
    running: 0,
    spool_depth: 0,
    registered_at: FRAME_NOW - 3 * 86_400_000,
    cert_issued_at: null,
    cert_expires_at: null,
    rollout: null,
    ...over,
  };
}

/** A small mixed fleet: online, stale and offline hosts with labels, runs and findings. */
export function mixedFleet(): HostView[] {
  return [
    hostAt('web-01', 4_000, { labels: { role: 'web', env: 'prod' }, running: 1 }),
    hostAt('web-02', 2_000, { labels: { role: 'web', env: 'staging' } }),
    hostAt('db-01', 95_000, { state: 'stale', labels: { role: 'db', env: 'prod' }, version: '0.0.9' }),
    hostAt('cache-01', 7_200_000, { state: 'offline', connected: false, labels: { role: 'cache' }, transport: 'https' }),
    hostAt('batch-01', 30_000, { labels: { role: 'batch', env: 'prod' }, running: 3, version: '0.1.1' }),
  ];
}

/** Open findings per host for `mixedFleet`. */
export const MIXED_OPEN: Record<string, number> = { 'web-01': 3, 'db-01': 12, 'batch-01': 0 };

/** `n` online hosts named host-00001 … with heartbeats a few seconds old. */
export function manyHosts(n: number): HostView[] {
  return Array.from({ length: n }, (_, i) =>
    hostAt(`host-${String(i + 1).padStart(5, '0')}`, (i % 50) * 1000, {
      state: i % 97 === 0 ? 'offline' : i % 31 === 0 ? 'stale' : 'online',
      labels: { rack: `r${i % 20}` },
    }),
  );
}
