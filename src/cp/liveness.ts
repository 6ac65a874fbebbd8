import type { Logger } from 'pino';
import type { HostState, HostView } from '../protocol/api.js';
import type { HostRow, HostTransport, StoredHeartbeat } from './store/hosts.js';
import type { HostsRepo } from './store/store-contract.js';
import type { AlongsideWrite } from './ingest-queue.js';
import { createBackoff, type StoreHealth } from './store/store-health.js';
import type { Liveness } from './liveness-contract.js';

export type { Liveness } from './liveness-contract.js';

/** Liveness from "last heard" and the transport's heartbeat interval (SPEC §2.3). */
export function hostState(lastHeard: number | null, intervalMs: number, now: number): HostState {
  if (lastHeard === null) return 'offline';
  const silence = now - lastHeard;
  if (silence < 3 * intervalMs) return 'online';
  if (silence < 12 * intervalMs) return 'stale';
  return 'offline';
}

/** The least time between two writes of host changes to the feed. */
const ANNOUNCE_GAP_MS = 50;

interface LiveEntry {
  lastHeard: number;
  seq: number;
  running: number;
  spoolDepth: number;
  dirty: boolean;
  connected: boolean;
  state: HostState;
  /** `tunnel`, `jobs` or `auto`, as last written to the hosts row. */
  transport: string;
  /** The host's bucket poll and heartbeat intervals when it uses the bucket; null for a tunnel-only host. */
  bucket: { pollMs: number; intervalMs: number } | null;
}

/** What the jobs route asks of a host's liveness: does it use the bucket, and how long has it been silent (in its own intervals). */
export interface HostStanding {
  usesBucket: boolean;
  connected: boolean;
  lastHeard: number | null;
  intervalMs: number;
  state: HostState;
}

/**
 * Liveness across a cluster's replicas. Each replica flushes what it heard to the shared store (never moving a time
 * back); views read the store's time for hosts connected elsewhere; the leader alone reads everyone's times back and
 * judges silence (online → stale → offline), so one transition is announced once, not once per replica.
 */
export interface FleetLiveness {
  /** Hosts the store says were heard after `since` (ms), by any replica. */
  heardSince(since: number): StoredHeartbeat[];
  /** True when another live replica holds the host's tunnel. */
  connectedElsewhere(hostname: string): boolean;
  /** True while this replica is the one that announces silence. */
  judgesSilence(): boolean;
}

/** How far back the leader re-reads the store's times: other replicas flush every second, with their own clocks. */
const FLEET_READ_OVERLAP_MS = 5_000;

/** The bucket intervals of a transport that uses the bucket; null for the tunnel alone. */
function bucketOf(t: HostTransport): LiveEntry['bucket'] {
  return t.transport !== 'tunnel' && t.pollMs !== null && t.intervalMs !== null ? { pollMs: t.pollMs, intervalMs: t.intervalMs } : null;
}

/** The transport a hosts row records. */
const rowTransport = (row: Pick<HostRow, 'transport' | 'poll_ms' | 'bucket_interval_ms'>): HostTransport => ({ transport: row.transport, pollMs: row.poll_ms, intervalMs: row.bucket_interval_ms });

/**
 * In-memory "last heard" per host: a heartbeat updates one small object (O(1), no disk write). A timer flushes the
 * changed entries to the store in one transaction and reports state transitions (online → stale → offline). When the
 * store cannot be written (disk full, I/O error) the times stay in memory, marked unflushed, and the flush is retried
 * with backoff; the timer also checks that the database file is still the one opened.
 */
export function createLiveness(deps: {
  hosts: HostsRepo;
  /** The store's health: failed flushes are reported to it, and each tick checks the database file. */
  health?: StoreHealth;
  /** Where a failure of a timer's work that is not a store failure is logged (a bug: the timer keeps running). */
  log?: Logger;
  now: () => number;
  intervalMs: number;
  flushMs: number;
  /** Writes changed host views to the feed (called inside a transaction); returns their cursors. */
  writeChanges: (views: HostView[]) => number[];
  /** Runs a function in one store transaction. */
  transaction: <T>(fn: () => T) => T;
  /** Publishes written host views, after their commit. */
  publishChanges: (views: HostView[], cursors: number[]) => void;
  /** The host's state in its latest rollout (issue 15), shown in its view; absent: null. */
  rolloutOf?: (hostname: string) => HostView['rollout'] | undefined;
  /** On a cluster: what the other replicas heard, so that a host is online if any replica heard it. */
  fleet?: FleetLiveness;
}): Liveness {
  const live = new Map<string, LiveEntry>();
  let timer: NodeJS.Timeout | undefined;
  // Hosts whose state or tunnel changed since the last announcement. Announcements are written at most every
  // ANNOUNCE_GAP_MS: a reconnect storm brings tunnels up one per loop turn, and one synchronous commit (fsync) per
  // host throttled the CP. Ingest writes pending announcements inside its own commits (`pendingAnnouncements`), so a
  // host is announced before the findings it sends, at no extra fsync.
  const changed = new Set<string>();
  let announceScheduled = false;
  let lastAnnounced = 0;
  const flushBackoff = createBackoff(deps.flushMs, 30_000);
  const announceBackoff = createBackoff(ANNOUNCE_GAP_MS, 30_000);
  let flushNotBefore = 0;
  let stopped = false;
  let heartbeats = 0;

  /** Reports a failed store write; errors that are not store failures are bugs, thrown on. */
  const storeFailed = (err: unknown, where: string): void => {
    if (!deps.health?.failed(err, where)) throw err;
  };

  // A host's liveness is judged by its own interval: the tunnel's heartbeat while its tunnel is up, else its bucket
  // heartbeats' (SPEC §2.3).
  const intervalOf = (connected: boolean, bucket: LiveEntry['bucket']): number => (connected || !bucket ? deps.intervalMs : bucket.intervalMs);
  const connectedAnywhere = (hostname: string, e: LiveEntry | undefined): boolean => (e?.connected ?? false) || (deps.fleet?.connectedElsewhere(hostname) ?? false);
  const entryInterval = (e: LiveEntry, hostname?: string): number => intervalOf(hostname === undefined ? e.connected : connectedAnywhere(hostname, e), e.bucket);

  const view = (row: HostRow, now: number): HostView => {
    const entry = live.get(row.hostname);
    // On a cluster another replica may have heard the host since: the store holds the latest time any of them flushed.
    const lastHeard = entry ? (deps.fleet && row.last_heartbeat !== null ? Math.max(entry.lastHeard, row.last_heartbeat) : entry.lastHeard) : row.last_heartbeat;
    const connected = connectedAnywhere(row.hostname, entry);
    const bucket = entry ? entry.bucket : bucketOf(rowTransport(row));
    const intervalMs = intervalOf(connected, bucket);
    const state = hostState(lastHeard, intervalMs, now);
    return {
      hostname: row.hostname,
      state,
      last_heartbeat: lastHeard,
      heartbeat_seq: entry ? entry.seq : row.heartbeat_seq,
      version: row.version,
      os: row.os,
      arch: row.arch,
      transport: entry?.transport ?? row.transport,
      path: connected ? 'tunnel' : bucket && state !== 'offline' ? 'jobs' : null,
      poll_ms: bucket?.pollMs ?? null,
      heartbeat_interval_ms: intervalMs,
      connected,
      labels: row.labels,
      running: entry ? entry.running : row.running,
      spool_depth: entry ? entry.spoolDepth : row.spool_depth,
      registered_at: row.registered_at,
      cert_issued_at: row.cert_issued_at,
      cert_expires_at: row.cert_not_after,
      rollout: deps.rolloutOf?.(row.hostname) ?? null,
    };
  };

  /** Takes the pending changes as a write to make inside a caller's transaction, or undefined when there are none. */
  const takePending = (): AlongsideWrite | undefined => {
    if (changed.size === 0) return undefined;
    const hostnames = [...changed];
    changed.clear();
    lastAnnounced = performance.now();
    let views: HostView[] = [];
    let cursors: number[] = [];
    return {
      write() {
        const now = deps.now();
        views = hostnames.flatMap((hostname) => {
          const row = deps.hosts.get(hostname);
          return row ? [view(row, now)] : [];
        });
        cursors = deps.writeChanges(views);
      },
      committed: () => deps.publishChanges(views, cursors),
      rolledBack: () => {
        for (const hostname of hostnames) announce(hostname);
      },
    };
  };

  const announceNow = (): void => {
    announceScheduled = false;
    const pending = takePending();
    if (!pending) return;
    try {
      deps.transaction(() => pending.write());
    } catch (err) {
      // The announcement is retried after a backoff (rolledBack re-announces, paced from lastAnnounced).
      lastAnnounced = performance.now() + announceBackoff.next() - ANNOUNCE_GAP_MS;
      pending.rolledBack();
      storeFailed(err, 'host announcements');
      return;
    }
    announceBackoff.reset();
    pending.committed();
  };

  /** Runs timer work: a failure is logged, never thrown out of the timer (an uncaught error would end the CP). */
  const guarded = (where: string, fn: () => void) => (): void => {
    if (stopped) return;
    try {
      fn();
    } catch (err) {
      deps.log?.error({ err }, `${where} failed`);
    }
  };
  const announceLater = guarded('host announcement', announceNow);

  function announce(hostname: string): void {
    changed.add(hostname);
    if (!announceScheduled && !stopped) {
      announceScheduled = true;
      const wait = lastAnnounced + ANNOUNCE_GAP_MS - performance.now();
      if (wait <= 0) setImmediate(announceLater);
      else setTimeout(announceLater, wait).unref();
    }
  }

  let fleetReadFrom = 0;
  /** The leader takes in what other replicas heard before judging silence. */
  const readFleet = (): void => {
    if (!deps.fleet?.judgesSilence()) return;
    let newest = fleetReadFrom;
    for (const row of deps.fleet.heardSince(fleetReadFrom - FLEET_READ_OVERLAP_MS)) {
      newest = Math.max(newest, row.last_heartbeat);
      const e = live.get(row.hostname);
      if (!e) {
        const hostRow = deps.hosts.get(row.hostname);
        const bucket = hostRow ? bucketOf(rowTransport(hostRow)) : null;
        live.set(row.hostname, {
          lastHeard: row.last_heartbeat, seq: row.heartbeat_seq ?? 0, running: row.running, spoolDepth: row.spool_depth, dirty: false, connected: false,
          state: hostState(row.last_heartbeat, intervalOf(connectedAnywhere(row.hostname, undefined), bucket), deps.now()), transport: hostRow?.transport ?? 'tunnel', bucket,
        });
      } else if (row.last_heartbeat > e.lastHeard) {
        e.lastHeard = row.last_heartbeat;
        e.seq = row.heartbeat_seq ?? e.seq;
        e.running = row.running;
        e.spoolDepth = row.spool_depth;
      }
    }
    fleetReadFrom = newest;
  };

  const tick = (): void => {
    deps.health?.check();
    try {
      readFleet();
    } catch (err) {
      storeFailed(err, 'fleet liveness read');
    }
    const now = deps.now();
    const updates = [];
    const flushing: LiveEntry[] = [];
    const flushNow = performance.now() >= flushNotBefore;
    for (const [hostname, e] of live) {
      if (e.dirty && flushNow) {
        updates.push({ hostname, lastHeartbeat: e.lastHeard, seq: e.seq, running: e.running, spoolDepth: e.spoolDepth });
        flushing.push(e);
      }
      const state = hostState(e.lastHeard, entryInterval(e, hostname), now);
      if (state !== e.state) {
        e.state = state;
        // On a cluster, silence is announced by the leader only (a host that moved on is silent to the replica it left).
        if (!deps.fleet || e.connected || deps.fleet.judgesSilence()) announce(hostname);
      }
    }
    if (updates.length === 0) return;
    try {
      deps.hosts.flushHeartbeats(updates);
    } catch (err) {
      // The entries stay dirty: their times are flushed by a later tick, once the store takes writes again.
      flushNotBefore = performance.now() + flushBackoff.next();
      storeFailed(err, 'heartbeat flush');
      return;
    }
    // Nothing runs between building the updates and this point, so no entry was heard again meanwhile.
    for (const e of flushing) e.dirty = false;
    flushBackoff.reset();
    deps.health?.succeeded('heartbeat flush');
  };

  return {
    /** Loads last-heard times from the store so states survive a CP restart. */
    load(): void {
      const now = deps.now();
      for (const row of deps.hosts.list()) {
        if (row.last_heartbeat === null) continue;
        const bucket = bucketOf(rowTransport(row));
        live.set(row.hostname, {
          lastHeard: row.last_heartbeat, seq: row.heartbeat_seq ?? 0, running: row.running, spoolDepth: row.spool_depth,
          dirty: false, connected: false, state: hostState(row.last_heartbeat, intervalOf(false, bucket), now), transport: row.transport, bucket,
        });
      }
    },
    /**
     * A host was heard (heartbeat, hello); returns to online at once. `at` is when it spoke, when that is not now (a
     * bucket heartbeat read after a CP restart: the time it was written, never later than now).
     */
    heard(hostname: string, h: { seq?: number; running?: number; spoolDepth?: number; at?: number }): void {
      const now = deps.now();
      const at = Math.min(now, h.at ?? now);
      // Heartbeats carry a sequence number; a hello or a tunnel's connect does not.
      if (h.seq !== undefined) heartbeats++;
      let e = live.get(hostname);
      if (!e) {
        const row = deps.hosts.get(hostname);
        e = { lastHeard: at, seq: 0, running: 0, spoolDepth: 0, dirty: true, connected: false, state: 'offline', transport: row?.transport ?? 'tunnel', bucket: row ? bucketOf(rowTransport(row)) : null };
        live.set(hostname, e);
      }
      e.lastHeard = Math.max(e.lastHeard, at);
      if (h.seq !== undefined) e.seq = h.seq;
      if (h.running !== undefined) e.running = h.running;
      if (h.spoolDepth !== undefined) e.spoolDepth = h.spoolDepth;
      e.dirty = true;
      const state = hostState(e.lastHeard, entryInterval(e), now);
      if (e.state !== state) {
        e.state = state;
        announce(hostname);
      }
    },
    /**
     * Records how a host reaches the CP (its tunnel hello; its bucket heartbeats): kept in memory for liveness and the
     * jobs route, written to the hosts row only when it changed (so it survives a restart). Call after `heard`.
     */
    setTransport(hostname: string, t: HostTransport): void {
      const e = live.get(hostname);
      if (!e) return;
      const bucket = bucketOf(t);
      if (e.transport === t.transport && e.bucket?.pollMs === bucket?.pollMs && e.bucket?.intervalMs === bucket?.intervalMs) return;
      deps.hosts.setTransport(hostname, t);
      e.transport = t.transport;
      e.bucket = bucket;
      e.state = hostState(e.lastHeard, entryInterval(e), deps.now());
      announce(hostname);
    },
    /** Whether a host uses the bucket, and its silence measured in its own interval (the jobs route's test). */
    standing(hostname: string): HostStanding | undefined {
      let e = live.get(hostname);
      if (deps.fleet && !e?.connected) {
        // On a cluster the leader's scanner hears bucket hosts: their time is the store's, not this replica's memory.
        const row = deps.hosts.get(hostname);
        if (row?.last_heartbeat != null && (!e || row.last_heartbeat > e.lastHeard)) {
          const bucket = bucketOf(rowTransport(row));
          e = { lastHeard: row.last_heartbeat, seq: 0, running: 0, spoolDepth: 0, dirty: false, connected: false, state: 'offline', transport: row.transport, bucket };
        }
      }
      if (!e) {
        // Never heard since it registered (a host that joined through the bucket and has not polled yet).
        const row = deps.hosts.get(hostname);
        return row && { usesBucket: row.transport !== 'tunnel', connected: false, lastHeard: null, intervalMs: deps.intervalMs, state: 'offline' };
      }
      const intervalMs = entryInterval(e);
      return { usesBucket: e.bucket !== null || e.transport === 'jobs', connected: e.connected, lastHeard: e.lastHeard, intervalMs, state: hostState(e.lastHeard, intervalMs, deps.now()) };
    },
    /** Marks a tunnel up or down for the host. */
    setConnected(hostname: string, connected: boolean): void {
      const e = live.get(hostname);
      if (e && e.connected !== connected) {
        e.connected = connected;
        announce(hostname);
      }
    },
    /** Pending host changes as a write for the caller's transaction (ingest: feed order follows causality). */
    pendingAnnouncements: takePending,
    /** Forgets a removed host. */
    forget(hostname: string): void {
      live.delete(hostname);
    },
    view,
    /** Flushes and checks transitions now (also runs on the timer). */
    tick,
    heartbeats: () => heartbeats,
    stateCounts(): Record<HostState, number> {
      const counts: Record<HostState, number> = { online: 0, stale: 0, offline: 0 };
      for (const e of live.values()) counts[e.state]++;
      // Hosts never heard since they registered have no entry; an entry of a host revoked elsewhere is not counted twice.
      counts.offline = Math.max(0, deps.hosts.count() - counts.online - counts.stale);
      return counts;
    },
    start(): void {
      timer = setInterval(guarded('liveness tick', tick), deps.flushMs);
      timer.unref();
    },
    /** Stops the timer and makes a last flush; what the store refuses now is lost with the process (hosts re-send heartbeats). */
    stop(): void {
      if (timer) clearInterval(timer);
      tick();
      announceNow();
      stopped = true;
    },
  };
}
