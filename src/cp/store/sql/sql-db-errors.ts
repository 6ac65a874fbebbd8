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
