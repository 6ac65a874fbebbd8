/**
 * Translates SQL written in the common dialect (see sql-db.ts) to PostgreSQL: `?` → `$1…$n`, `@name` → `$n` (one
 * number per distinct name), and a null-safe `IS ?` / `IS NOT ?` → `IS [NOT] DISTINCT FROM $n`. String literals,
 * quoted identifiers, dollar-quoted bodies and comments are copied untouched.
 */

/** A statement translated for PostgreSQL. */
export interface PostgresSql {
  /** The SQL with `$n` parameters. */
  text: string;
  /** For named parameters: the name bound to `$1`, `$2`, … in order. Empty for positional ones. */
  names: readonly string[];
  /** How many values a positional statement takes (`names.length` for a named one). */
  count: number;
}

const cache = new Map<string, PostgresSql>();
// Repositories prepare a fixed set of statements; the bound only guards against SQL built from data.
const CACHE_LIMIT = 2000;

/** The PostgreSQL form of `sql`, cached. Throws when one statement mixes `?` and `@name`. */
export function toPostgresSql(sql: string): PostgresSql {
  let hit = cache.get(sql);
  if (hit === undefined) {
    hit = translate(sql);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(sql, hit);
  }
  return hit;
}

const isIdentStart = (c: string | undefined): boolean => c !== undefined && /[A-Za-z_]/.test(c);
const isIdentPart = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9_$]/.test(c);

/** Where the quoted section or comment starting at `i` ends (exclusive), or undefined when none starts there. */
function skipQuoted(sql: string, i: number): number | undefined {
  const c = sql[i];
  if (c === "'" || c === '"') {
    // '' (or "") inside is an escaped quote: the scan simply reopens, so it needs no special case.
    const end = sql.indexOf(c, i + 1);
    return end < 0 ? sql.length : end + 1;
  }
  if (c === '-' && sql[i + 1] === '-') {
    const end = sql.indexOf('\n', i + 2);
    return end < 0 ? sql.length : end + 1;
  }
  if (c === '/' && sql[i + 1] === '*') {
    const end = sql.indexOf('*/', i + 2);
    return end < 0 ? sql.length : end + 2;
  }
  if (c === '$' && !isIdentPart(sql[i - 1])) {
    const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64));
    if (tag) {
      const end = sql.indexOf(tag[0], i + tag[0].length);
      return end < 0 ? sql.length : end + tag[0].length;
    }
  }
  return undefined;
}

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\n' || c === '\t' || c === '\r';

/** Where the whitespace-separated word ending at `end` (exclusive) starts, when it is `word` (any case). */
function wordBefore(text: string, end: number, word: string): number | undefined {
  const start = end - word.length;
  if (start < 0 || text.slice(start, end).toUpperCase() !== word || isIdentPart(text[start - 1])) return undefined;
  return start;
}

/** When `out` ends with `IS ` or `IS NOT ` (whole words, any case and spacing): where that starts and whether NOT. */
function nullSafeTail(out: string): { start: number; not: boolean } | undefined {
  let end = out.length;
  if (!isSpace(out[end - 1])) return undefined;
  while (isSpace(out[end - 1])) end--;
  const is = wordBefore(out, end, 'IS');
  if (is !== undefined) return { start: is, not: false };
  const not = wordBefore(out, end, 'NOT');
  if (not === undefined || !isSpace(out[not - 1])) return undefined;
  let isEnd = not;
  while (isSpace(out[isEnd - 1])) isEnd--;
  const isNot = wordBefore(out, isEnd, 'IS');
  return isNot === undefined ? undefined : { start: isNot, not: true };
}

function translate(sql: string): PostgresSql {
  const names: string[] = [];
  let positional = 0;
  let out = '';
  let copiedTo = 0; // where in `out` the last literal or comment ends: an IS inside one is no operator
  let i = 0;
  while (i < sql.length) {
    const skipTo = skipQuoted(sql, i);
    if (skipTo !== undefined) {
      out += sql.slice(i, skipTo);
      copiedTo = out.length;
      i = skipTo;
      continue;
    }
    const c = sql[i] as string;
    let param: number | undefined;
    if (c === '?') {
      positional++;
      param = positional;
      i++;
    } else if (c === '@' && isIdentStart(sql[i + 1]) && !isIdentPart(sql[i - 1])) {
      let end = i + 1;
      while (isIdentPart(sql[end]) && sql[end] !== '$') end++;
      const name = sql.slice(i + 1, end);
      let index = names.indexOf(name);
      if (index < 0) index = names.push(name) - 1;
      param = index + 1;
      i = end;
    }
    if (param === undefined) {
      out += c;
      i++;
      continue;
    }
    const tail = nullSafeTail(out);
    if (tail && tail.start >= copiedTo) out = `${out.slice(0, tail.start)}IS ${tail.not ? '' : 'NOT '}DISTINCT FROM `;
    out += `$${param}`;
  }
  if (positional > 0 && names.length > 0) throw new Error(`SQL mixes ? and @name parameters: ${sql}`);
  return { text: out, names, count: positional || names.length };
}
