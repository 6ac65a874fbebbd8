import { describe, expect, it } from 'vitest';
import { isPostgresUnavailable, isUniqueViolation, sqlErrorCode } from '../../../../src/cp/store/sql/sql-db-errors.js';

const withCode = (code: unknown): Error => Object.assign(new Error('e'), { code });

describe('sql-db-errors', () => {
  it.each([
    ['SQLITE_CONSTRAINT_UNIQUE', true, false],
    ['SQLITE_CONSTRAINT_PRIMARYKEY', true, false],
    ['SQLITE_CONSTRAINT_NOTNULL', false, false],
    ['23505', true, false],
    ['23502', false, false],
    ['08006', false, true],
    ['53300', false, true],
    ['57P01', false, true],
    ['55P03', false, true],
    ['57014', false, true],
    ['40P01', false, true],
    ['42P01', false, false],
    ['OKS_ERR_STORE_UNAVAILABLE', false, false],
  ])('%s: unique violation %s, unavailable %s', (code, unique, unavailable) => {
    expect(isUniqueViolation(withCode(code))).toBe(unique);
    expect(isPostgresUnavailable(withCode(code))).toBe(unavailable);
  });

  it('reads a code only from an Error with a string code', () => {
    expect(sqlErrorCode(withCode('23505'))).toBe('23505');
    expect(sqlErrorCode({ code: '23505' })).toBeUndefined();
    expect(sqlErrorCode(withCode(5))).toBeUndefined();
    expect(sqlErrorCode(undefined)).toBeUndefined();
  });
});
