import type { HostState, HostView } from '../protocol/api.js';
import type { HostRow, HostsRepo } from './store/hosts.js';

/** Liveness from "last heard" and the transport's heartbeat interval (SPEC §2.3). */
export function hostState(lastHeard: number | null, intervalMs: number, now: number): HostState {
  if (lastHeard === null) return 'offline';
  const silence = now - lastHeard;
  if (silence < 3 * intervalMs) return 'online';
  if (silence < 12 * intervalMs) return 'stale';
  return 'offline';
}

interface LiveEntry {
  lastHeard: number;
  seq: number;
  running: number;
  spoolDepth: number;
  dirty: boolean;
  connected: boolean;
  state: HostState;
}

/**
 * In-memory "last heard" per host: a heartbeat updates one small object (O(1), no disk write). A timer flushes the
 * changed entries to the store in one transaction and reports state transitions (online → stale → offline).
 */
export function createLiveness(deps: {
  hosts: HostsRepo;
  now: () => number;
  intervalMs: number;
  flushMs: number;
  /** Host views that changed, coalesced: called once per event-loop turn with every host that changed in it. */
  onChange: (views: HostView[]) => void;
}) {
  const live = new Map<string, LiveEntry>();
  let timer: NodeJS.Timeout | undefined;
  // Hosts whose state or tunnel changed this turn. A reconnect storm changes thousands at once; announcing them in
  // one batch lets the CP write the feed in one transaction instead of one fsync per host.
  const changed = new Set<string>();
  let announceScheduled = false;

  const view = (row: HostRow, now: number): HostView => {
    const entry = live.get(row.hostname);
    const lastHeard = entry ? entry.lastHeard : row.last_heartbeat;
    return {
      hostname: row.hostname,
      state: hostState(lastHeard, deps.intervalMs, now),
      last_heartbeat: lastHeard,
      heartbeat_seq: entry ? entry.seq : row.heartbeat_seq,
      version: row.version,
      os: row.os,
      arch: row.arch,
      transport: row.transport,
      connected: entry?.connected ?? false,
      labels: row.labels,
      running: entry ? entry.running : row.running,
      spool_depth: entry ? entry.spoolDepth : row.spool_depth,
      registered_at: row.registered_at,
    };
  };

  const announceNow = (): void => {
    announceScheduled = false;
    if (changed.size === 0) return;
    const now = deps.now();
    const views: HostView[] = [];
    for (const hostname of changed) {
      const row = deps.hosts.get(hostname);
      if (row) views.push(view(row, now));
    }
    changed.clear();
    if (views.length > 0) deps.onChange(views);
  };

  const announce = (hostname: string): void => {
    changed.add(hostname);
    if (!announceScheduled) {
      announceScheduled = true;
      setImmediate(announceNow);
    }
  };

  const tick = (): void => {
    const now = deps.now();
    const updates = [];
    for (const [hostname, e] of live) {
      if (e.dirty) {
        updates.push({ hostname, lastHeartbeat: e.lastHeard, seq: e.seq, running: e.running, spoolDepth: e.spoolDepth });
        e.dirty = false;
      }
      const state = hostState(e.lastHeard, deps.intervalMs, now);
      if (state !== e.state) {
        e.state = state;
        announce(hostname);
      }
    }
    deps.hosts.flushHeartbeats(updates);
  };

  return {
    /** Loads last-heard times from the store so states survive a CP restart. */
    load(): void {
      const now = deps.now();
      for (const row of deps.hosts.list()) {
        if (row.last_heartbeat === null) continue;
        live.set(row.hostname, {
          lastHeard: row.last_heartbeat, seq: row.heartbeat_seq ?? 0, running: row.running, spoolDepth: row.spool_depth,
          dirty: false, connected: false, state: hostState(row.last_heartbeat, deps.intervalMs, now),
        });
      }
    },
    /** A host was heard (heartbeat, hello); returns to online at once. */
    heard(hostname: string, h: { seq?: number; running?: number; spoolDepth?: number }): void {
      const now = deps.now();
      let e = live.get(hostname);
      if (!e) {
        e = { lastHeard: now, seq: 0, running: 0, spoolDepth: 0, dirty: true, connected: false, state: 'offline' };
        live.set(hostname, e);
      }
      e.lastHeard = now;
      if (h.seq !== undefined) e.seq = h.seq;
      if (h.running !== undefined) e.running = h.running;
      if (h.spoolDepth !== undefined) e.spoolDepth = h.spoolDepth;
      e.dirty = true;
      if (e.state !== 'online') {
        e.state = 'online';
        announce(hostname);
      }
    },
    /** Marks a tunnel up or down for the host. */
    setConnected(hostname: string, connected: boolean): void {
      const e = live.get(hostname);
      if (e && e.connected !== connected) {
        e.connected = connected;
        announce(hostname);
      }
    },
    /** Forgets a removed host. */
    forget(hostname: string): void {
      live.delete(hostname);
    },
    view,
    /** Flushes and checks transitions now (also runs on the timer). */
    tick,
    start(): void {
      timer = setInterval(tick, deps.flushMs);
      timer.unref();
    },
    stop(): void {
      if (timer) clearInterval(timer);
      tick();
      announceNow();
    },
  };
}
/** The liveness tracker. */
export type Liveness = ReturnType<typeof createLiveness>;
