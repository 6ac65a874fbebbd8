import { describe, expect, it } from 'vitest';
import { tokenize } from '../../../src/specs/expr/tokenize.js';
import type { Token } from '../../../src/specs/expr/tokenize.js';

/** A compact rendering of the tokens: `id:a`, `str:x`, `num:1`, `p:==`, without eof. */
function kinds(tokens: Token[]): string[] {
  return tokens.flatMap((t) => {
    switch (t.kind) {
      case 'ident':
        return [`id:${t.name}`];
      case 'string':
        return [`str:${t.value}`];
      case 'number':
        return [`num:${t.value}`];
      case 'punct':
        return [`p:${t.value}`];
      case 'eof':
        return [];
    }
  });
}

function lex(source: string): string[] {
  const result = tokenize(source);
  if (!result.ok) throw new Error(`unexpected error: ${result.error}`);
  return kinds(result.tokens);
}

describe('tokenize', () => {
  it.each<[string, string, string[]]>([
    ['an identifier', 'scan', ['id:scan']],
    ['an identifier with hyphens and digits', 'ioc-sweep_2', ['id:ioc-sweep_2']],
    ['a dotted path', 'scan.result.pid', ['id:scan', 'p:.', 'id:result', 'p:.', 'id:pid']],
    ['an index with a string key', 'a["web-1"]', ['id:a', 'p:[', 'str:web-1', 'p:]']],
    ['integers and floats', '3 4.5 1e3 2.5E-2', ['num:3', 'num:4.5', 'num:1000', 'num:0.025']],
    ['a negative number is minus then number', '-3', ['p:-', 'num:3']],
    ['single-quoted string', "'it'", ['str:it']],
    ['double-quoted string', '"it"', ['str:it']],
    ['escapes', String.raw`'a\'b\"c\\d\ne\tf'`, ['str:a\'b"c\\d\ne\tf']],
    ['a double quote inside single quotes', `'say "hi"'`, ['str:say "hi"']],
    ['two-character operators', '== != <= >= && ||', ['p:==', 'p:!=', 'p:<=', 'p:>=', 'p:&&', 'p:||']],
    ['one-character operators', '< > ! | , ( )', ['p:<', 'p:>', 'p:!', 'p:|', 'p:,', 'p:(', 'p:)']],
    ['operators without spaces', 'a==1&&!b', ['id:a', 'p:==', 'num:1', 'p:&&', 'p:!', 'id:b']],
    ['a filter bar next to a logical or', 'a||b|json', ['id:a', 'p:||', 'id:b', 'p:|', 'id:json']],
    ['keywords are identifiers to the lexer', 'true in contains', ['id:true', 'id:in', 'id:contains']],
    ['whitespace of all kinds', ' \ta\n\r', ['id:a']],
    ['empty source', '', []],
  ])('%s', (_name, source, expected) => {
    expect(lex(source)).toEqual(expected);
  });

  it('records the 0-based offset of every token and ends with eof at the length', () => {
    const result = tokenize("ab == 'x'");
    expect(result.ok && result.tokens.map((t) => t.pos)).toEqual([0, 3, 6, 9]);
    expect(result.ok && result.tokens.at(-1)?.kind).toBe('eof');
  });

  it.each<[string, string, string]>([
    ['a single =', 'a = b', `unexpected character '=' (did you mean ==?) at 2 in "a = b"`],
    ['a single &', 'a & b', `unexpected character '&' (did you mean &&?) at 2 in "a & b"`],
    ['an unknown character', 'a # b', `unexpected character '#' at 2 in "a # b"`],
    ['an unterminated string', "a == 'x", `unterminated string (missing ') at 5 in "a == 'x"`],
    ['an unknown escape', String.raw`'\q'`, String.raw`unknown escape '\q' in string at 1 in "'\q'"`],
    ['a backslash at the end', "'a\\", `unknown escape '\\' in string at 2 in "'a\\"`],
    ['a number running into letters', '3abc', `invalid number '3a' at 0 in "3abc"`],
  ])('rejects %s', (_name, source, error) => {
    expect(tokenize(source)).toEqual({ ok: false, error });
  });
});
