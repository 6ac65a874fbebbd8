import type { Db } from './database.js';

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
export function createHostsRepo(db: Db) {
  const byName = db.prepare<[string], RawHostRow>('SELECT * FROM hosts WHERE hostname = ? AND revoked_at IS NULL');
  const byCredential = db.prepare<[string], RawHostRow>('SELECT * FROM hosts WHERE credential_id = ?');
  const all = db.prepare<[], RawHostRow>('SELECT * FROM hosts WHERE revoked_at IS NULL ORDER BY hostname');
  const countLive = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM hosts WHERE revoked_at IS NULL');
  const overrides = db.prepare<[string], { key: string; value: string | null }>('SELECT key, value FROM host_label_overrides WHERE hostname = ?');
  const setOverride = db.prepare(
    'INSERT INTO host_label_overrides (hostname, key, value) VALUES (?, ?, ?) ON CONFLICT (hostname, key) DO UPDATE SET value = excluded.value',
  );
  const insert = db.prepare(
    `INSERT INTO hosts (hostname, cert_serial, credential_id, credential_hash, os, arch, version, labels, registered_at, cert_issued_at, cert_not_after)
     VALUES (@hostname, @cert_serial, @credential_id, @credential_hash, @os, @arch, @version, @labels, @registered_at, @cert_issued_at, @cert_not_after)`,
  );
  // Compare-and-set: only a live host still presenting `from` (its current or just-replaced serial) is renewed.
  const renew = db.prepare(
    `UPDATE hosts SET cert_serial = @serial, cert_serial_prev = @from, cert_issued_at = @issued_at, cert_not_after = @not_after
     WHERE id = @id AND revoked_at IS NULL AND (cert_serial = @from OR cert_serial_prev = @from)`,
  );
  const settle = db.prepare('UPDATE hosts SET cert_serial_prev = NULL WHERE id = ? AND cert_serial = ? AND cert_serial_prev IS NOT NULL');
  const revoke = db.prepare('UPDATE hosts SET revoked_at = ? WHERE hostname = ? AND revoked_at IS NULL');
  const facts = db.prepare('UPDATE hosts SET version = ?, os = ?, arch = ?, labels = ? WHERE id = ?');
  const heartbeat = db.prepare(
    'UPDATE hosts SET last_heartbeat = ?, heartbeat_seq = ?, running = ?, spool_depth = ? WHERE hostname = ? AND revoked_at IS NULL',
  );
  const flush = db.transaction((updates: readonly HeartbeatUpdate[]) => {
    for (const u of updates) heartbeat.run(u.lastHeartbeat, u.seq, u.running, u.spoolDepth, u.hostname);
  });

  return {
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
        & Partial<Pick<HostRow, 'cert_issued_at' | 'cert_not_after'>>,
    ): void {
      insert.run({ cert_issued_at: null, cert_not_after: null, ...row, labels: JSON.stringify(row.labels) });
    },
    /**
     * Binds a renewed certificate to a live host whose tunnel authenticated with serial `from`; the replaced serial
     * stays accepted until `settleRenewal`. False when the host was revoked or renewed from elsewhere meanwhile.
     */
    renewCert(id: number, from: string, cert: { serial: string; issuedAt: number; notAfter: number }): boolean {
      return renew.run({ id, from, serial: cert.serial, issued_at: cert.issuedAt, not_after: cert.notAfter }).changes > 0;
    },
    /** The renewed certificate `serial` was used: the one it replaced is no longer accepted. */
    settleRenewal(id: number, serial: string): void {
      settle.run(id, serial);
    },
    /** Revokes the live identity of a hostname; false when there was none. */
    revoke(hostname: string, at: number): boolean {
      return revoke.run(at, hostname).changes > 0;
    },
    /** Updates what a daimon reports about itself at connect. */
    updateFacts(id: number, f: { version: string; os: string; arch: string; labels: Record<string, string> }): void {
      facts.run(f.version, f.os, f.arch, JSON.stringify(f.labels), id);
    },
    /** Writes a batch of heartbeats in one transaction. */
    flushHeartbeats(updates: readonly HeartbeatUpdate[]): void {
      if (updates.length > 0) flush(updates);
    },
  };
}
/** The hosts repository. */
export type HostsRepo = ReturnType<typeof createHostsRepo>;

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
