import { describe, expect, it } from 'vitest';
import { isUniqueViolation, sqlErrorCode } from '../../../../src/cp/store/sql/sql-db-errors.js';

const withCode = (code: unknown): Error => Object.assign(new Error('e'), { code });

describe('sql-db-errors', () => {
  it.each([
    ['SQLITE_CONSTRAINT_UNIQUE', true],
    ['SQLITE_CONSTRAINT_PRIMARYKEY', true],
    ['SQLITE_CONSTRAINT_NOTNULL', false],
    ['23505', true],
    ['23502', false],
    ['OKS_ERR_STORE_UNAVAILABLE', false],
  ])('%s: unique violation %s', (code, unique) => {
    expect(isUniqueViolation(withCode(code))).toBe(unique);
  });

  it('reads a code only from an Error with a string code', () => {
    expect(sqlErrorCode(withCode('23505'))).toBe('23505');
    expect(sqlErrorCode({ code: '23505' })).toBeUndefined();
    expect(sqlErrorCode(withCode(5))).toBeUndefined();
    expect(sqlErrorCode(undefined)).toBeUndefined();
  });
});
