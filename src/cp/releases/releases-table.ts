import type { SqlDb } from '../store/sql/sql-db.js';
import { compareVersions, type ReleaseView, type SignedRelease } from '../../protocol/release.js';

/** A row of the `releases` table (schema v6). */
export interface ReleaseRow {
  version: string;
  platform: string;
  sha256: string;
  size: number;
  key_id: string;
  /** The signed release as JSON text (`SignedRelease`), exactly as uploaded. */
  signed: string;
  created_at: number;
  uploaded_at: number;
  uploaded_by: string;
}

/** The `releases` table's statements. */
export interface ReleasesTable {
  insert(row: ReleaseRow): void;
  get(version: string): ReleaseRow | undefined;
  /** Every row, newest version first. */
  all(): ReleaseRow[];
  delete(version: string): boolean;
}

/** The `releases` table: one row per stored version. */
export function createReleasesTable(db: SqlDb): ReleasesTable {
  const insert = db.prepare<[ReleaseRow]>(
    `INSERT INTO releases (version, platform, sha256, size, key_id, signed, created_at, uploaded_at, uploaded_by)
     VALUES (@version, @platform, @sha256, @size, @key_id, @signed, @created_at, @uploaded_at, @uploaded_by)`,
  );
  const get = db.prepare<[string], ReleaseRow>('SELECT * FROM releases WHERE version = ?');
  const all = db.prepare<[], ReleaseRow>('SELECT * FROM releases');
  const del = db.prepare<[string]>('DELETE FROM releases WHERE version = ?');
  return {
    insert: (row: ReleaseRow): void => void insert.run(row),
    get: (version: string): ReleaseRow | undefined => get.get(version),
    /** Every row, newest version first. */
    all: (): ReleaseRow[] => all.all().sort((a, b) => compareVersions(b.version, a.version)),
    delete: (version: string): boolean => del.run(version).changes > 0,
  };
}

/** The listing of a row. */
export function releaseView(row: ReleaseRow): ReleaseView {
  return {
    version: row.version, platform: row.platform, sha256: row.sha256, size: row.size, key_id: row.key_id,
    created_at: row.created_at, uploaded_at: row.uploaded_at, uploaded_by: row.uploaded_by,
  };
}

/** The signed release a row keeps (written by the store from a verified value). */
export function rowSigned(row: ReleaseRow): SignedRelease {
  return JSON.parse(row.signed) as SignedRelease;
}
