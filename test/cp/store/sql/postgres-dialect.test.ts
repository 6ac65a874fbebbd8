import { describe, expect, it } from 'vitest';
import { toPostgresSql } from '../../../../src/cp/store/sql/postgres-dialect.js';

describe('toPostgresSql', () => {
  it.each([
    ['positional', 'SELECT * FROM t WHERE a = ? AND b = ?', 'SELECT * FROM t WHERE a = $1 AND b = $2', [], 2],
    ['named, repeated names share a number', 'UPDATE t SET a = @a, b = @b WHERE a = @a', 'UPDATE t SET a = $1, b = $2 WHERE a = $1', ['a', 'b'], 2],
    ['no parameters', 'SELECT 1', 'SELECT 1', [], 0],
    ['placeholders in string literals stay', "SELECT '?', 'it''s @x ?', ? FROM t", "SELECT '?', 'it''s @x ?', $1 FROM t", [], 1],
    ['quoted identifiers stay', 'SELECT "a?b", "@c" FROM t WHERE x = ?', 'SELECT "a?b", "@c" FROM t WHERE x = $1', [], 1],
    ['line comments stay', 'SELECT ? -- is this ? @x\n, ?', 'SELECT $1 -- is this ? @x\n, $2', [], 2],
    ['block comments stay', 'SELECT /* ? @x */ ?', 'SELECT /* ? @x */ $1', [], 1],
    ['dollar-quoted bodies stay', 'SELECT $$ ? $$, $q$ @x $q$, ?', 'SELECT $$ ? $$, $q$ @x $q$, $1', [], 1],
    ['null-safe IS', 'SELECT * FROM t WHERE a IS @a AND b is @b', 'SELECT * FROM t WHERE a IS NOT DISTINCT FROM $1 AND b IS NOT DISTINCT FROM $2', ['a', 'b'], 2],
    ['an IS in a comment is no operator', 'SELECT 1 -- a IS\n?', 'SELECT 1 -- a IS\n$1', [], 1],
    ['null-safe IS NOT', 'DELETE FROM t WHERE a IS  NOT\n?', 'DELETE FROM t WHERE a IS DISTINCT FROM $1', [], 1],
    ['IS NULL untouched', 'SELECT * FROM t WHERE a IS NULL AND b = ?', 'SELECT * FROM t WHERE a IS NULL AND b = $1', [], 1],
    ['a word ending in IS is no IS', 'SELECT * FROM t WHERE this = ? AND axis ?', 'SELECT * FROM t WHERE this = $1 AND axis $2', [], 2],
    ['@ operators and emails in literals', "SELECT a @> b, 'x@y.z' FROM t WHERE c = @c", "SELECT a @> b, 'x@y.z' FROM t WHERE c = $1", ['c'], 1],
    ['casts', 'SELECT ?::bigint, @n::text', undefined, undefined, undefined],
  ])('%s', (_name, sql, text, names, count) => {
    if (text === undefined) {
      expect(() => toPostgresSql(sql)).toThrow(/mixes \? and @name/);
      return;
    }
    expect(toPostgresSql(sql)).toEqual({ text, names, count });
  });

  it('returns the cached translation for the same SQL', () => {
    const sql = 'SELECT ? AS cached';
    expect(toPostgresSql(sql)).toBe(toPostgresSql(sql));
  });
});
