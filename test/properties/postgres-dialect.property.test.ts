import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toPostgresSql } from '../../src/cp/store/sql/postgres-dialect.js';
import { budget, withinBound } from './budget.js';

// SQL-ish text built from pieces that stress the scanner: literals and comments holding placeholders and IS, IS / IS
// NOT before placeholders, and placeholders themselves. Each piece knows its translation (`$#` is the next number).
interface Piece {
  sql: string;
  /** The translation; for a placeholder, the text before its number. */
  expected: string;
  placeholder?: true;
}
const verbatim = (sql: string): Piece => ({ sql, expected: sql });
const text = fc.string({ maxLength: 12 }).map((s) => `${s} ? @x IS`);
const literal = text.map((s) => verbatim(`'${s.replace(/'/g, "''")}'`));
const quoted = text.map((s) => verbatim(`"${s.replace(/"/g, '""')}"`));
const comment = text.map((s) => verbatim(`-- ${s.replace(/\n/g, ' ')}\n`));
const block = text.map((s) => verbatim(`/* ${s.replace(/\*\//g, '')} */`));
const plain = fc.constantFrom('SELECT', ' a', ' = ', ', ', ' FROM t', ' WHERE', ' AND', '(', ')', ' IS NULL', ' 1', ' this', 'axis').map(verbatim);
const placeholder = fc.constantFrom<Piece>(
  { sql: ' ?', expected: ' ', placeholder: true },
  { sql: ' IS ?', expected: ' IS NOT DISTINCT FROM ', placeholder: true },
  { sql: ' is not ?', expected: ' IS DISTINCT FROM ', placeholder: true },
  { sql: ' Is\n  ?', expected: ' IS NOT DISTINCT FROM ', placeholder: true },
);
const piece = fc.oneof(literal, quoted, comment, block, plain, plain, placeholder);

describe('the PostgreSQL dialect translation (property)', () => {
  it('numbers every positional placeholder once, in order, and leaves literals and comments untouched', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => {
        const sql = pieces.map((p) => p.sql).join(' ');
        const out = withinBound('toPostgresSql', () => toPostgresSql(sql));
        let n = 0;
        const expected = pieces.map((p) => (p.placeholder ? `${p.expected}$${++n}` : p.expected)).join(' ');
        expect(out).toEqual({ text: expected, names: [], count: n });
      }),
      budget(500),
    );
  });

  it('binds each distinct @name to one number, first use first', () => {
    const name = fc.constantFrom('a', 'b', 'host_name', 'x1');
    fc.assert(
      fc.property(fc.array(name, { minLength: 1, maxLength: 12 }), fc.array(fc.oneof(literal, plain), { maxLength: 12 }), (uses, filler) => {
        const sql = uses.map((n, i) => `${filler[i]?.sql ?? ''} c = @${n}`).join(',');
        const out = withinBound('toPostgresSql', () => toPostgresSql(sql));
        const names = [...new Set(uses)];
        expect(out.names).toEqual(names);
        expect(out.count).toBe(names.length);
        expect(out.text).toBe(uses.map((n, i) => `${filler[i]?.sql ?? ''} c = $${names.indexOf(n) + 1}`).join(','));
      }),
      budget(300),
    );
  });

  it('never throws on arbitrary text without both kinds of placeholder, and is bounded', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (sql) => {
        const out = withinBound('toPostgresSql', () => toPostgresSql(sql.replace(/@/g, '')));
        expect(out.count).toBeGreaterThanOrEqual(0);
      }),
      budget(500),
    );
  });
});
