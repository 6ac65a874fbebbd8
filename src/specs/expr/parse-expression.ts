import { describeToken, syntaxError, tokenize } from './tokenize.js';
import type { Punct, Token } from './tokenize.js';

/** The filters a pipeline may apply (`value | length`). */
export const FILTERS = ['json', 'length', 'first', 'last'] as const;
/** One filter name. */
export type FilterName = (typeof FILTERS)[number];

/** Comparison and membership operators. */
export type BinaryOp = '==' | '!=' | '<' | '>' | '<=' | '>=' | 'in' | 'contains';

/** Largest expression source accepted, in UTF-8 bytes. */
export const MAX_EXPRESSION_BYTES = 4096;
/** Deepest nesting of parentheses, brackets and `!` accepted. */
export const MAX_EXPRESSION_DEPTH = 64;

/** A parsed expression; `pos` is the 0-based offset in the source of the node's first token. */
export type Expr =
  | { kind: 'literal'; value: string | number | boolean | null; pos: number }
  | { kind: 'list'; items: Expr[]; pos: number }
  | { kind: 'ident'; name: string; pos: number }
  | { kind: 'member'; object: Expr; name: string; pos: number }
  | { kind: 'index'; object: Expr; index: Expr; pos: number }
  | { kind: 'not'; operand: Expr; pos: number }
  | { kind: 'logical'; op: '&&' | '||'; left: Expr; right: Expr; pos: number }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; pos: number }
  | { kind: 'filter'; name: FilterName; input: Expr; pos: number };

/** The result of `parseExpression`: the AST, or an error saying what was expected and where. */
export type ParseExpressionResult = { ok: true; expr: Expr } | { ok: false; error: string };

const COMPARISONS: readonly Punct[] = ['==', '!=', '<', '>', '<=', '>='];
const KEYWORD_LITERALS: Record<string, boolean | null> = { true: true, false: false, null: null };

/** Thrown inside the parser only; `parseExpression` turns it into `{ ok: false }`. */
class ParseFailure extends Error {}

/** Parses an expression (`scan.result.verdict == 'c2'`, `finding.severity in ['HIGH'] | json`…); never throws. */
export function parseExpression(source: string): ParseExpressionResult {
  const bytes = new TextEncoder().encode(source).length;
  if (bytes > MAX_EXPRESSION_BYTES) {
    return { ok: false, error: `expression is ${bytes} bytes, longer than the limit of ${MAX_EXPRESSION_BYTES}` };
  }
  const lexed = tokenize(source);
  if (!lexed.ok) return lexed;
  try {
    return { ok: true, expr: new Parser(lexed.tokens, source).parseAll() };
  } catch (err) {
    if (err instanceof ParseFailure) return { ok: false, error: err.message };
    throw err;
  }
}

class Parser {
  private index = 0;
  private depth = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly source: string,
  ) {}

  parseAll(): Expr {
    const expr = this.parsePipeline();
    const next = this.peek();
    if (next.kind !== 'eof') this.fail(`expected end of expression (found ${describeToken(next)})`, next);
    return expr;
  }

  private parsePipeline(): Expr {
    this.enter();
    let expr = this.parseOr();
    while (this.isPunct('|')) {
      const bar = this.next();
      const name = this.peek();
      if (name.kind !== 'ident') this.fail(`expected a filter name (${FILTERS.join(', ')})`, name);
      if (!(FILTERS as readonly string[]).includes(name.name)) {
        this.fail(`unknown filter '${name.name}' (expected one of ${FILTERS.join(', ')})`, name);
      }
      this.next();
      expr = { kind: 'filter', name: name.name as FilterName, input: expr, pos: bar.pos };
    }
    this.depth -= 1;
    return expr;
  }

  private parseOr(): Expr {
    let left = this.parseAnd();
    while (this.isPunct('||')) {
      const op = this.next();
      left = { kind: 'logical', op: '||', left, right: this.parseAnd(), pos: op.pos };
    }
    return left;
  }

  private parseAnd(): Expr {
    let left = this.parseNot();
    while (this.isPunct('&&')) {
      const op = this.next();
      left = { kind: 'logical', op: '&&', left, right: this.parseNot(), pos: op.pos };
    }
    return left;
  }

  private parseNot(): Expr {
    if (!this.isPunct('!')) return this.parseComparison();
    const bang = this.next();
    this.enter();
    const operand = this.parseNot();
    this.depth -= 1;
    return { kind: 'not', operand, pos: bang.pos };
  }

  private parseComparison(): Expr {
    let left = this.parseMembership();
    for (;;) {
      const token = this.peek();
      if (token.kind !== 'punct' || !COMPARISONS.includes(token.value)) return left;
      this.next();
      const op = token.value as BinaryOp;
      left = { kind: 'binary', op, left, right: this.parseMembership(), pos: token.pos };
    }
  }

  private parseMembership(): Expr {
    let left = this.parsePostfix();
    for (;;) {
      const token = this.peek();
      if (token.kind !== 'ident' || (token.name !== 'in' && token.name !== 'contains')) return left;
      this.next();
      left = { kind: 'binary', op: token.name, left, right: this.parsePostfix(), pos: token.pos };
    }
  }

  private parsePostfix(): Expr {
    let expr = this.parsePrimary();
    for (;;) {
      if (this.isPunct('.')) {
        this.next();
        const name = this.peek();
        if (name.kind !== 'ident') this.fail(`expected a name after '.'`, name);
        this.next();
        expr = { kind: 'member', object: expr, name: name.name, pos: expr.pos };
      } else if (this.isPunct('[')) {
        this.next();
        const index = this.parsePipeline();
        this.expectPunct(']');
        expr = { kind: 'index', object: expr, index, pos: expr.pos };
      } else {
        return expr;
      }
    }
  }

  private parsePrimary(): Expr {
    const token = this.next();
    switch (token.kind) {
      case 'number':
        return { kind: 'literal', value: token.value, pos: token.pos };
      case 'string':
        return { kind: 'literal', value: token.value, pos: token.pos };
      case 'ident':
        if (Object.hasOwn(KEYWORD_LITERALS, token.name)) {
          return { kind: 'literal', value: KEYWORD_LITERALS[token.name] as boolean | null, pos: token.pos };
        }
        if (token.name === 'in' || token.name === 'contains') this.fail(`expected a value (found '${token.name}')`, token);
        return { kind: 'ident', name: token.name, pos: token.pos };
      case 'punct':
        return this.parseBracketed(token);
      case 'eof':
        return this.fail('expected a value', token);
    }
  }

  private parseBracketed(token: Token & { kind: 'punct' }): Expr {
    if (token.value === '-') {
      const num = this.peek();
      if (num.kind !== 'number') this.fail(`expected a number after '-'`, num);
      this.next();
      return { kind: 'literal', value: -num.value, pos: token.pos };
    }
    if (token.value === '(') {
      const inner = this.parsePipeline();
      this.expectPunct(')');
      return inner;
    }
    if (token.value === '[') {
      this.enter();
      const items: Expr[] = [];
      while (!this.isPunct(']')) {
        items.push(this.parsePipeline());
        if (!this.isPunct(',')) break;
        this.next();
      }
      this.expectPunct(']');
      this.depth -= 1;
      return { kind: 'list', items, pos: token.pos };
    }
    return this.fail(`expected a value (found '${token.value}')`, token);
  }

  private enter(): void {
    this.depth += 1;
    if (this.depth > MAX_EXPRESSION_DEPTH) this.fail(`expression nests deeper than ${MAX_EXPRESSION_DEPTH} levels`, this.peek());
  }

  private peek(): Token {
    return this.tokens[this.index] as Token;
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== 'eof') this.index += 1;
    return token;
  }

  private isPunct(value: Punct): boolean {
    const token = this.peek();
    return token.kind === 'punct' && token.value === value;
  }

  private expectPunct(value: Punct): void {
    const token = this.peek();
    if (token.kind === 'punct' && token.value === value) {
      this.next();
      return;
    }
    this.fail(token.kind === 'eof' ? `expected ${value}` : `expected ${value} (found ${describeToken(token)})`, token);
  }

  private fail(detail: string, at: Token): never {
    throw new ParseFailure(syntaxError(detail, at.pos, this.source));
  }
}
