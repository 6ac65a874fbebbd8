/** Recognising database errors the same way on SQLite and PostgreSQL (both put their error code in `err.code`). */

const UNIQUE_CODES = new Set([
  'SQLITE_CONSTRAINT_UNIQUE',
  'SQLITE_CONSTRAINT_PRIMARYKEY',
  '23505', // PostgreSQL unique_violation (a primary key too)
]);

/** The database error code of `err` (`SQLITE_…` or a PostgreSQL SQLSTATE), or undefined. */
export function sqlErrorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === 'string' ? code : undefined;
}

/** True when `err` is an insert or update refused by a UNIQUE or PRIMARY KEY constraint, on either database. */
export function isUniqueViolation(err: unknown): boolean {
  const code = sqlErrorCode(err);
  return code !== undefined && UNIQUE_CODES.has(code);
}

/**
 * True when a PostgreSQL error says "the database cannot serve this right now" rather than "this statement is wrong":
 * a lost or refused connection (class 08), the server out of resources (53) or shutting down (57P01-57P03), a lock or
 * statement timeout (55P03, 57014: PostgreSQL's SQLITE_BUSY), a serialization failure or deadlock (40001, 40P01).
 * For store-health's isStoreFailure on a PostgreSQL store (the driver's own connection failures are already
 * OKS_ERR_STORE_UNAVAILABLE).
 */
export function isPostgresUnavailable(err: unknown): boolean {
  const code = sqlErrorCode(err);
  if (code === undefined || !/^[0-9A-Z]{5}$/.test(code)) return false;
  return code.startsWith('08') || code.startsWith('53') || /^57P0[123]$/.test(code) || ['55P03', '57014', '40001', '40P01'].includes(code);
}
