import { describe, expect, it } from 'vitest';
import { MAX_EXPRESSION_DEPTH, parseExpression } from '../../../src/specs/expr/parse-expression.js';
import type { Expr } from '../../../src/specs/expr/parse-expression.js';

/** The AST as a fully bracketed string, so precedence is visible: `(== (. a b) 1)`. */
function show(expr: Expr): string {
  switch (expr.kind) {
    case 'literal':
      return JSON.stringify(expr.value);
    case 'list':
      return `[${expr.items.map(show).join(' ')}]`;
    case 'ident':
      return expr.name;
    case 'member':
      return `${show(expr.object)}.${expr.name}`;
    case 'index':
      return `${show(expr.object)}[${show(expr.index)}]`;
    case 'not':
      return `(! ${show(expr.operand)})`;
    case 'logical':
    case 'binary':
      return `(${expr.op} ${show(expr.left)} ${show(expr.right)})`;
    case 'filter':
      return `(| ${show(expr.input)} ${expr.name})`;
  }
}

function parsed(source: string): string {
  const result = parseExpression(source);
  if (!result.ok) throw new Error(`unexpected error: ${result.error}`);
  return show(result.expr);
}

describe('parseExpression: shapes and precedence', () => {
  it.each<[string, string]>([
    ['42', '42'],
    ['-3', '-3'],
    ['- 2.5', '-2.5'],
    ["'x'", '"x"'],
    ['"x"', '"x"'],
    ['true', 'true'],
    ['false', 'false'],
    ['null', 'null'],
    ['[]', '[]'],
    ["[a, 'b', 3]", '[a "b" 3]'],
    ['[1, 2,]', '[1 2]'],
    ['[[1], [2, [3]]]', '[[1] [2 [3]]]'],
    ['scan', 'scan'],
    ['ioc-sweep.result', 'ioc-sweep.result'],
    ['scan.result.pid', 'scan.result.pid'],
    ['scan.byNode["web-1"].result.pid', 'scan.byNode["web-1"].result.pid'],
    ['sweep.nodes[0]', 'sweep.nodes[0]'],
    ['a[b.c]', 'a[b.c]'],
    ['a.true.in', 'a.true.in'],
    ['a == 1', '(== a 1)'],
    ['a != -1', '(!= a -1)'],
    ['a < b', '(< a b)'],
    ['a <= b', '(<= a b)'],
    ['a > b', '(> a b)'],
    ['a >= b', '(>= a b)'],
    ['a == b == c', '(== (== a b) c)'],
    ["a in ['x', 'y']", '(in a ["x" "y"])'],
    ["a contains 'x'", '(contains a "x")'],
    ['a in b == true', '(== (in a b) true)'],
    ['!a', '(! a)'],
    ['!!a', '(! (! a))'],
    ['!a == b', '(! (== a b))'],
    ['!a && b', '(&& (! a) b)'],
    ['a && b || c', '(|| (&& a b) c)'],
    ['a || b && c', '(|| a (&& b c))'],
    ['a || b || c', '(|| (|| a b) c)'],
    ['(a || b) && c', '(&& (|| a b) c)'],
    ['a | length', '(| a length)'],
    ['a | json', '(| a json)'],
    ['a | first | json', '(| (| a first) json)'],
    ['a || b | json', '(| (|| a b) json)'],
    ['(a | length) > 3', '(> (| a length) 3)'],
    ['[a | first, b]', '[(| a first) b]'],
    ['a[b | last]', 'a[(| b last)]'],
    ['(x).y', 'x.y'],
    ['[1, 2][0]', '[1 2][0]'],
    ["finding.severity in ['HIGH','CRITICAL'] && finding.agent == 'edr'", '(&& (in finding.severity ["HIGH" "CRITICAL"]) (== finding.agent "edr"))'],
    ["scan.result.verdict == 'c2_callback'", '(== scan.result.verdict "c2_callback")'],
    ['  a\n==\t1  ', '(== a 1)'],
  ])('%s', (source, expected) => {
    expect(parsed(source)).toBe(expected);
  });

  it('records the offset of each node', () => {
    const result = parseExpression('a.b == c');
    expect(result.ok && result.expr).toMatchObject({ kind: 'binary', pos: 4, left: { kind: 'member', pos: 0 }, right: { pos: 7 } });
  });
});

describe('parseExpression: errors say what was expected and where', () => {
  it.each<[string, string]>([
    ["a in ['x', 'y'", `expected ] at 14 in "a in ['x', 'y'"`],
    ['', 'expected a value at 0 in ""'],
    ['   ', 'expected a value at 3 in "   "'],
    ['(a', 'expected ) at 2 in "(a"'],
    ['(a]', `expected ) (found ']') at 2 in "(a]"`],
    ['a[0', 'expected ] at 3 in "a[0"'],
    ['a.', `expected a name after '.' at 2 in "a."`],
    ['a.1', `expected a name after '.' at 2 in "a.1"`],
    ['a ==', 'expected a value at 4 in "a =="'],
    ['a b', `expected end of expression (found 'b') at 2 in "a b"`],
    ['a)', `expected end of expression (found ')') at 1 in "a)"`],
    ['a | foo', `unknown filter 'foo' (expected one of json, length, first, last) at 4 in "a | foo"`],
    ['a | 3', 'expected a filter name (json, length, first, last) at 4 in "a | 3"'],
    ['a |', 'expected a filter name (json, length, first, last) at 3 in "a |"'],
    ['a | length > 3', `expected end of expression (found '>') at 11 in "a | length > 3"`],
    ['-a', `expected a number after '-' at 1 in "-a"`],
    ['a - 1', `expected end of expression (found '-') at 2 in "a - 1"`],
    ['in', `expected a value (found 'in') at 0 in "in"`],
    ['a in', 'expected a value at 4 in "a in"'],
    ['contains b', `expected a value (found 'contains') at 0 in "contains b"`],
    ['&& a', `expected a value (found '&&') at 0 in "&& a"`],
    ['a(1)', `expected end of expression (found '(') at 1 in "a(1)"`],
    ['[1 2]', 'expected ] (found number 2) at 3 in "[1 2]"'],
    ['a = 1', `unexpected character '=' (did you mean ==?) at 2 in "a = 1"`],
  ])('%s', (source, error) => {
    expect(parseExpression(source)).toEqual({ ok: false, error });
  });

  it('accepts nesting up to the limit and rejects one level more', () => {
    const nested = (n: number): string => '('.repeat(n - 1) + 'a' + ')'.repeat(n - 1);
    expect(parseExpression(nested(MAX_EXPRESSION_DEPTH)).ok).toBe(true);
    const deeper = parseExpression(nested(MAX_EXPRESSION_DEPTH + 1));
    expect(deeper.ok).toBe(false);
    expect(!deeper.ok && deeper.error).toMatch(/^expression nests deeper than 64 levels at 64 in/);
  });

  it.each<[string, string]>([
    ['parentheses', '('.repeat(100) + 'a' + ')'.repeat(100)],
    ['lists', '['.repeat(100) + ']'.repeat(100)],
    ['negations', '!'.repeat(100) + 'a'],
    ['indexes', 'a' + '[b'.repeat(100) + ']'.repeat(100)],
  ])('rejects nesting of %s beyond the limit', (_name, source) => {
    const result = parseExpression(source);
    expect(!result.ok && result.error).toMatch(/nests deeper than 64 levels/);
  });

  it('accepts a long flat expression but rejects a source over 4 KB', () => {
    const flat = Array.from({ length: 500 }, (_, i) => `a${i}`).join(' || ');
    expect(flat.length).toBeLessThan(4096);
    expect(parseExpression(flat).ok).toBe(true);
    const big = `'${'x'.repeat(4095)}'`;
    expect(parseExpression(big)).toEqual({ ok: false, error: 'expression is 4097 bytes, longer than the limit of 4096' });
  });

  it('counts the size limit in UTF-8 bytes', () => {
    const wide = `'${'é'.repeat(2047)}'`; // 2047 × 2 bytes + 2 quotes = 4096
    expect(parseExpression(wide).ok).toBe(true);
    expect(parseExpression(`'${'é'.repeat(2048)}'`).ok).toBe(false);
  });
});
