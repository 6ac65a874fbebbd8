/** Punctuation and operators of the expression language, longest first where one is a prefix of another. */
export const PUNCTUATION = ['||', '&&', '==', '!=', '<=', '>=', '.', '[', ']', '(', ')', ',', '|', '!', '<', '>', '-'] as const;
/** One punctuation or operator token. */
export type Punct = (typeof PUNCTUATION)[number];

/** A lexical token of an expression; `pos` is the 0-based character offset where it starts. */
export type Token =
  | { kind: 'ident'; name: string; pos: number }
  | { kind: 'string'; value: string; pos: number }
  | { kind: 'number'; value: number; pos: number }
  | { kind: 'punct'; value: Punct; pos: number }
  | { kind: 'eof'; pos: number };

/** The result of `tokenize`: the tokens (ending with `eof`) or a syntax error naming where. */
export type TokenizeResult = { ok: true; tokens: Token[] } | { ok: false; error: string };

const IDENT = /[A-Za-z_][A-Za-z0-9_-]*/y;
const NUMBER = /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const IDENT_CHAR = /[A-Za-z0-9_]/;
const ESCAPES: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r' };

/** A syntax error message in the one format of the language: what was wrong, the 0-based offset, the source. */
export function syntaxError(detail: string, pos: number, source: string): string {
  return `${detail} at ${pos} in "${source}"`;
}

/** How a token is named in an error message. */
export function describeToken(token: Token): string {
  switch (token.kind) {
    case 'ident':
      return `'${token.name}'`;
    case 'string':
      return `string ${JSON.stringify(token.value)}`;
    case 'number':
      return `number ${token.value}`;
    case 'punct':
      return `'${token.value}'`;
    case 'eof':
      return 'end of expression';
  }
}

/** Splits an expression into tokens; never throws. */
export function tokenize(source: string): TokenizeResult {
  const tokens: Token[] = [];
  let pos = 0;
  while (pos < source.length) {
    const ch = source[pos] as string;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      pos += 1;
      continue;
    }
    if (ch === "'" || ch === '"') {
      const read = readString(source, pos);
      if (!read.ok) return read;
      tokens.push({ kind: 'string', value: read.value, pos });
      pos = read.end;
      continue;
    }
    NUMBER.lastIndex = pos;
    const num = NUMBER.exec(source);
    if (num) {
      const end = pos + num[0].length;
      if (end < source.length && IDENT_CHAR.test(source[end] as string)) {
        return { ok: false, error: syntaxError(`invalid number '${num[0]}${source[end] as string}'`, pos, source) };
      }
      tokens.push({ kind: 'number', value: Number(num[0]), pos });
      pos = end;
      continue;
    }
    IDENT.lastIndex = pos;
    const ident = IDENT.exec(source);
    if (ident) {
      tokens.push({ kind: 'ident', name: ident[0], pos });
      pos += ident[0].length;
      continue;
    }
    const punct = PUNCTUATION.find((p) => source.startsWith(p, pos));
    if (punct) {
      tokens.push({ kind: 'punct', value: punct, pos });
      pos += punct.length;
      continue;
    }
    const hint = ch === '=' ? ' (did you mean ==?)' : ch === '&' ? ' (did you mean &&?)' : '';
    return { ok: false, error: syntaxError(`unexpected character '${ch}'${hint}`, pos, source) };
  }
  tokens.push({ kind: 'eof', pos: source.length });
  return { ok: true, tokens };
}

function readString(source: string, start: number): { ok: true; value: string; end: number } | { ok: false; error: string } {
  const quote = source[start];
  let value = '';
  let pos = start + 1;
  while (pos < source.length) {
    const ch = source[pos] as string;
    if (ch === quote) return { ok: true, value, end: pos + 1 };
    if (ch === '\\') {
      const next = source[pos + 1];
      const escaped = next === undefined ? undefined : ESCAPES[next];
      if (escaped === undefined) {
        return { ok: false, error: syntaxError(`unknown escape '\\${next ?? ''}' in string`, pos, source) };
      }
      value += escaped;
      pos += 2;
      continue;
    }
    value += ch;
    pos += 1;
  }
  return { ok: false, error: syntaxError(`unterminated string (missing ${quote as string})`, start, source) };
}

/**
 * The offset just past the end of the string literal starting at `start` (a quote), or -1 when it never closes.
 * Used by the template scanner so a `}}` inside a quoted string does not end a placeholder.
 */
export function skipString(source: string, start: number): number {
  const quote = source[start];
  let pos = start + 1;
  while (pos < source.length) {
    const ch = source[pos];
    if (ch === '\\') pos += 2;
    else if (ch === quote) return pos + 1;
    else pos += 1;
  }
  return -1;
}
