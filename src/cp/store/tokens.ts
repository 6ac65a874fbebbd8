import type { SqlDb } from './sql/sql-db.js';
import type { TokensRepo } from './store-contract.js';
import type { Role } from '../../protocol/api.js';

/** A token row: the secret itself is never stored, only its SHA-256. */
export interface TokenRow {
  id: string;
  kind: 'join' | 'operator';
  role: Role | null;
  name: string;
  hash: string;
  created_at: number;
  expires_at: number | null;
  uses_left: number | null;
  revoked_at: number | null;
  created_by: string;
  /** A join token that may register this hostname only (`okesu deploy`'s tokens); null or absent for any. */
  bound_hostname?: string | null;
}

/** Join and operator tokens. */
export function createTokensRepo(db: SqlDb): TokensRepo {
  const get = db.prepare<[string], TokenRow>('SELECT * FROM tokens WHERE id = ?');
  const list = db.prepare<[], TokenRow>('SELECT * FROM tokens ORDER BY created_at');
  const insert = db.prepare(
    `INSERT INTO tokens (id, kind, role, name, hash, created_at, expires_at, uses_left, created_by, bound_hostname)
     VALUES (@id, @kind, @role, @name, @hash, @created_at, @expires_at, @uses_left, @created_by, @bound_hostname)`,
  );
  const revoke = db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
  const use = db.prepare('UPDATE tokens SET uses_left = uses_left - 1 WHERE id = ? AND uses_left > 0');
  const anyAdmin = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM tokens WHERE kind = 'operator' AND role = 'admin'");

  return {
    get(id: string): TokenRow | undefined {
      return get.get(id);
    },
    list(): TokenRow[] {
      return list.all();
    },
    insert(row: Omit<TokenRow, 'revoked_at'>): void {
      insert.run({ ...row, bound_hostname: row.bound_hostname ?? null });
    },
    /** Revokes a token; false when unknown or already revoked. */
    revoke(id: string, at: number): boolean {
      return revoke.run(at, id).changes > 0;
    },
    /** Takes one use of a join token atomically; false when none was left. */
    consumeUse(id: string): boolean {
      return use.run(id).changes > 0;
    },
    /** True once an admin operator token exists (first start is done). */
    hasAdmin(): boolean {
      return (anyAdmin.get()?.n ?? 0) > 0;
    },
  };
}
export type { TokensRepo };
