import type { SqlDb } from './sql/sql-db.js';
import type { HostsRepo } from './store-contract.js';

/** Rows per batched statement on Postgres. */
const BATCH_ROWS = 5000;

/** A host row as stored. */
export interface HostRow {
  id: number;
  hostname: string;
  cert_serial: string;
  credential_id: string;
  credential_hash: string;
  os: string;
  arch: string;
  version: string;
  labels: Record<string, string>;
  transport: string;
  registered_at: number;
  revoked_at: number | null;
  last_heartbeat: number | null;
  heartbeat_seq: number | null;
  running: number;
  spool_depth: number;
  /** Issue time and notAfter (ms) of the live certificate (`cert_serial`). */
  cert_issued_at: number | null;
  cert_not_after: number | null;
  /** The serial a renewal replaced, accepted until the new certificate is first used; null otherwise. */
  cert_serial_prev: string | null;
  /** The host's public key (SPKI DER, base64): it verifies what the host writes to the jobs bucket. */
  public_key: string | null;
  /** The key a renewal replaced, kept so objects written before the renewal still verify. */
  public_key_prev: string | null;
  /** Bucket poll interval (ms) of a host that uses the bucket; null otherwise. */
  poll_ms: number | null;
  /** Interval (ms) between its bucket heartbeats; null for a tunnel-only host. */
  bucket_interval_ms: number | null;
  /** The replica holding the host's tunnel now (schema v7); null when none. */
  replica_id: string | null;
}

/** How a host reaches the CP, as its heartbeats or hello say: `tunnel`, `jobs` or `auto`, and its bucket intervals. */
export interface HostTransport {
  transport: string;
  pollMs: number | null;
  intervalMs: number | null;
}

/** A host's "last heard" as the store holds it: the latest any replica flushed. */
export interface StoredHeartbeat {
  hostname: string;
  last_heartbeat: number;
  heartbeat_seq: number | null;
  running: number;
  spool_depth: number;
}

/** What a heartbeat flush writes for one host. */
export interface HeartbeatUpdate {
  hostname: string;
  lastHeartbeat: number;
  seq: number;
  running: number;
  spoolDepth: number;
}

type RawHostRow = Omit<HostRow, 'labels'> & { labels: string };
const toRow = (raw: RawHostRow): HostRow => ({ ...raw, labels: JSON.parse(raw.labels) as Record<string, string> });

/** Host registry: identities, facts and batched "last heard". */
export function createHostsRepo(db: SqlDb): HostsRepo {
  const byName = db.prepare<[string], RawHostRow>('SELECT * FROM hosts WHERE hostname = ? AND revoked_at IS NULL');
  const byCredential = db.prepare<[string], RawHostRow>('SELECT * FROM hosts WHERE credential_id = ?');
  const all = db.prepare<[], RawHostRow>('SELECT * FROM hosts WHERE revoked_at IS NULL ORDER BY hostname');
  const liveNames = db.prepare<[], { hostname: string }>('SELECT hostname FROM hosts WHERE revoked_at IS NULL');
  const countLive = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM hosts WHERE revoked_at IS NULL');
  const overrides = db.prepare<[string], { key: string; value: string | null }>('SELECT key, value FROM host_label_overrides WHERE hostname = ?');
  const setOverride = db.prepare(
    'INSERT INTO host_label_overrides (hostname, key, value) VALUES (?, ?, ?) ON CONFLICT (hostname, key) DO UPDATE SET value = excluded.value',
  );
  const insert = db.prepare(
    `INSERT INTO hosts (hostname, cert_serial, credential_id, credential_hash, os, arch, version, labels, registered_at, cert_issued_at, cert_not_after, public_key, transport)
     VALUES (@hostname, @cert_serial, @credential_id, @credential_hash, @os, @arch, @version, @labels, @registered_at, @cert_issued_at, @cert_not_after, @public_key, @transport)`,
  );
  // Compare-and-set: only a live host still presenting `from` (its current or just-replaced serial) is renewed.
  // (The CAST types the parameter where nothing else would: Postgres cannot infer the type of a bare `$n IS NULL`.)
  const renew = db.prepare(
    `UPDATE hosts SET cert_serial = @serial, cert_serial_prev = @from, cert_issued_at = @issued_at, cert_not_after = @not_after,
       public_key_prev = CASE WHEN CAST(@public_key AS TEXT) IS NULL OR public_key IS @public_key THEN public_key_prev ELSE public_key END,
       public_key = coalesce(@public_key, public_key)
     WHERE id = @id AND revoked_at IS NULL AND (cert_serial = @from OR cert_serial_prev = @from)`,
  );
  const settle = db.prepare('UPDATE hosts SET cert_serial_prev = NULL WHERE id = ? AND cert_serial = ? AND cert_serial_prev IS NOT NULL');
  const backfillKey = db.prepare('UPDATE hosts SET public_key = ? WHERE id = ? AND public_key IS NULL');
  const setTransport = db.prepare('UPDATE hosts SET transport = ?, poll_ms = ?, bucket_interval_ms = ? WHERE hostname = ? AND revoked_at IS NULL');
  const revoke = db.prepare('UPDATE hosts SET revoked_at = ? WHERE hostname = ? AND revoked_at IS NULL');
  const facts = db.prepare('UPDATE hosts SET version = ?, os = ?, arch = ?, labels = ? WHERE id = ?');
  const heartbeat = db.prepare(
    // On a cluster (Postgres) never moves a time back: the replica a host left may flush an older time than the one it
    // moved to. One CP keeps what it heard last, as it always did (a clock stepped back must not freeze the column).
    `UPDATE hosts SET last_heartbeat = @at, heartbeat_seq = @seq, running = @running, spool_depth = @spool
     WHERE hostname = @hostname AND revoked_at IS NULL${db.dialect === 'postgres' ? ' AND (last_heartbeat IS NULL OR last_heartbeat <= @at)' : ''}`,
  );
  const pg = db.dialect === 'postgres';
  const heartbeatBatch = pg
    ? db.prepare<[{ hostnames: string[]; ats: number[]; seqs: number[]; runnings: number[]; spools: number[] }]>(
        // Arrays travel as named parameters (a positional array would be taken for the parameter list).
        `UPDATE hosts AS h SET last_heartbeat = u.at, heartbeat_seq = u.seq, running = u.running, spool_depth = u.spool
         FROM unnest(CAST(@hostnames AS TEXT[]), CAST(@ats AS BIGINT[]), CAST(@seqs AS BIGINT[]), CAST(@runnings AS BIGINT[]), CAST(@spools AS BIGINT[]))
           AS u(hostname, at, seq, running, spool)
         WHERE h.hostname = u.hostname AND h.revoked_at IS NULL AND (h.last_heartbeat IS NULL OR h.last_heartbeat <= u.at)`,
      )
    : undefined;
  // A tunnel that opened here takes the host; one that closed lets it go only if this replica still holds it.
  const replicaBatch = pg
    ? db.prepare<[{ me: string; hostnames: string[]; ups: boolean[] }]>(
        `UPDATE hosts AS h SET replica_id = CASE WHEN u.up THEN CAST(@me AS TEXT) ELSE NULL END
         FROM unnest(CAST(@hostnames AS TEXT[]), CAST(@ups AS BOOLEAN[])) AS u(hostname, up)
         WHERE h.hostname = u.hostname AND h.revoked_at IS NULL AND (u.up OR h.replica_id = CAST(@me AS TEXT))`,
      )
    : undefined;
  const flush = (updates: readonly HeartbeatUpdate[]): void =>
    db.transaction(() => {
      for (const u of updates) heartbeat.run({ at: u.lastHeartbeat, seq: u.seq, running: u.running, spool: u.spoolDepth, hostname: u.hostname });
    })();
  const heardSince = db.prepare<[number], StoredHeartbeat>(
    'SELECT hostname, last_heartbeat, heartbeat_seq, running, spool_depth FROM hosts WHERE revoked_at IS NULL AND last_heartbeat > ?',
  );
  const setReplica = db.prepare('UPDATE hosts SET replica_id = ? WHERE hostname = ? AND revoked_at IS NULL');
  const setReplicaIf = db.prepare('UPDATE hosts SET replica_id = ? WHERE hostname = ? AND revoked_at IS NULL AND replica_id = ?');
  const withReplica = db.prepare<[], { hostname: string; replica_id: string }>(
    'SELECT hostname, replica_id FROM hosts WHERE revoked_at IS NULL AND replica_id IS NOT NULL ORDER BY hostname',
  );

  // Bumped by every change to who holds which key (a new host, a renewal, a backfill, a revocation): readers that
  // cache keys (src/cp/jobs/host-keys.ts) drop their cache when it moves. On Postgres the replicas share the store, and
  // a renewal on one must reach the leader's scanner: the generation is a row of `meta` there, not a local counter.
  let localGeneration = 0;
  const sharedBump = db.dialect === 'postgres'
    ? db.prepare("INSERT INTO meta (key, value) VALUES ('hosts.keys_generation', '1') ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(meta.value AS BIGINT) + 1 AS TEXT)")
    : undefined;
  const sharedRead = db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'hosts.keys_generation'");
  const bumpKeys = (): void => {
    localGeneration++;
    sharedBump?.run();
  };

  return {
    /** Moves whenever a host's keys may have changed (insert, renewal, backfill, revocation). */
    keysGeneration: (): number => (sharedBump ? Number(sharedRead.get()?.value ?? 0) : localGeneration),
    /** The live (not revoked) host with this name. */
    get(hostname: string): HostRow | undefined {
      const raw = byName.get(hostname);
      return raw && toRow(raw);
    },
    /** The host (live or revoked) owning a credential id. */
    getByCredential(credentialId: string): HostRow | undefined {
      const raw = byCredential.get(credentialId);
      return raw && toRow(raw);
    },
    /** Every live host, by name. */
    list(): HostRow[] {
      return all.all().map(toRow);
    },
    /** The names of every live host, in no particular order: a fan-out's check of its list reads only these. */
    names(): string[] {
      return liveNames.all().map((r) => r.hostname);
    },
    /** Operator label overrides of a host (`okesu hosts label`): a string sets the label, null removes it. */
    labelOverrides(hostname: string): Record<string, string | null> {
      return Object.fromEntries(overrides.all(hostname).map((r) => [r.key, r.value]));
    },
    setLabelOverride(hostname: string, key: string, value: string | null): void {
      setOverride.run(hostname, key, value);
    },
    /** How many live hosts there are. */
    count(): number {
      return countLive.get()?.n ?? 0;
    },
    /** Binds a hostname to a new identity; throws on a live duplicate (unique index). */
    insert(
      row: Pick<HostRow, 'hostname' | 'cert_serial' | 'credential_id' | 'credential_hash' | 'os' | 'arch' | 'version' | 'labels' | 'registered_at'>
        & Partial<Pick<HostRow, 'cert_issued_at' | 'cert_not_after' | 'public_key' | 'transport'>>,
    ): void {
      bumpKeys();
      insert.run({ cert_issued_at: null, cert_not_after: null, public_key: null, transport: 'tunnel', ...row, labels: JSON.stringify(row.labels) });
    },
    /** Stores the key of a host registered before keys were kept (read from its tunnel's certificate); only when none is stored. */
    backfillPublicKey(id: number, publicKey: string): boolean {
      bumpKeys();
      return backfillKey.run(publicKey, id).changes > 0;
    },
    /** Records how a host reaches the CP (its bucket heartbeats, its tunnel hello). */
    setTransport(hostname: string, t: HostTransport): void {
      setTransport.run(t.transport, t.pollMs, t.intervalMs, hostname);
    },
    /**
     * Binds a renewed certificate to a live host whose tunnel authenticated with serial `from`; the replaced serial
     * stays accepted until `settleRenewal`. False when the host was revoked or renewed from elsewhere meanwhile.
     */
    renewCert(id: number, from: string, cert: { serial: string; issuedAt: number; notAfter: number; publicKey?: string }): boolean {
      bumpKeys();
      return renew.run({ id, from, serial: cert.serial, issued_at: cert.issuedAt, not_after: cert.notAfter, public_key: cert.publicKey ?? null }).changes > 0;
    },
    /** The renewed certificate `serial` was used: the one it replaced is no longer accepted. */
    settleRenewal(id: number, serial: string): void {
      settle.run(id, serial);
    },
    /** Revokes the live identity of a hostname; false when there was none. */
    revoke(hostname: string, at: number): boolean {
      bumpKeys();
      return revoke.run(at, hostname).changes > 0;
    },
    /** Updates what a daimon reports about itself at connect. */
    updateFacts(id: number, f: { version: string; os: string; arch: string; labels: Record<string, string> }): void {
      facts.run(f.version, f.os, f.arch, JSON.stringify(f.labels), id);
    },
    /** Writes a batch of heartbeats in one transaction. */
    flushHeartbeats(updates: readonly HeartbeatUpdate[]): void {
      if (updates.length === 0) return;
      if (!heartbeatBatch) return flush(updates);
      // Postgres: one statement per chunk, outside any transaction (it needs no writer lock: no feed entry), instead
      // of one round trip per host — at 5,000 hosts that was a quarter of a second of the event loop every second.
      for (let i = 0; i < updates.length; i += BATCH_ROWS) {
        const chunk = updates.slice(i, i + BATCH_ROWS);
        heartbeatBatch.run({
          hostnames: chunk.map((u) => u.hostname), ats: chunk.map((u) => u.lastHeartbeat), seqs: chunk.map((u) => u.seq),
          runnings: chunk.map((u) => u.running), spools: chunk.map((u) => u.spoolDepth),
        });
      }
    },
    setReplicas(replicaId: string, changes: ReadonlyArray<{ hostname: string; up: boolean }>): void {
      if (changes.length === 0) return;
      if (!replicaBatch) {
        db.transaction(() => {
          for (const c of changes) {
            if (c.up) setReplica.run(replicaId, c.hostname);
            else setReplicaIf.run(null, c.hostname, replicaId);
          }
        })();
        return;
      }
      for (let i = 0; i < changes.length; i += BATCH_ROWS) {
        const chunk = changes.slice(i, i + BATCH_ROWS);
        replicaBatch.run({ me: replicaId, hostnames: chunk.map((c) => c.hostname), ups: chunk.map((c) => c.up) });
      }
    },
    setReplica(hostname: string, replicaId: string | null, onlyIfReplica?: string): void {
      if (onlyIfReplica === undefined) setReplica.run(replicaId, hostname);
      else setReplicaIf.run(replicaId, hostname, onlyIfReplica);
    },
    heardSince: (since) => heardSince.all(since),
    withReplica(): Array<{ hostname: string; replica_id: string }> {
      return withReplica.all();
    },
  };
}
export type { HostsRepo };

/**
 * A host's labels with an operator's overrides applied over the daimon's own. Applied wherever labels are written
 * (the operator's change, a daimon's hello), so the stored labels are always the effective ones.
 */
export function applyLabelOverrides(labels: Readonly<Record<string, string>>, overrides: Readonly<Record<string, string | null>>): Record<string, string> {
  const out: Record<string, string> = { ...labels };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}
