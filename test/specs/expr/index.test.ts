import { describe, expect, it } from 'vitest';
import * as expr from '../../../src/specs/expr/index.js';

describe('src/specs/expr/index', () => {
  it('exports the API other modules code against', () => {
    for (const name of [
      'parseExpression',
      'evaluateExpression',
      'ExpressionError',
      'truthy',
      'expressionRefs',
      'parseTemplate',
      'renderTemplate',
      'templateRefs',
      'isSingleExpression',
      'unwrapBraces',
    ]) {
      expect(typeof (expr as Record<string, unknown>)[name], name).toBe('function');
    }
  });

  it('runs a `when` end to end: unwrap, parse, evaluate, truthy', () => {
    const when = unwrapOrThrow("{{scan.result.verdict == 'c2_callback'}}");
    expect(expr.truthy(expr.evaluateExpression(when.expr, { scan: { result: { verdict: 'c2_callback' } } }, when.source))).toBe(true);
    expect(expr.truthy(expr.evaluateExpression(when.expr, { scan: { status: 'failed' } }, when.source))).toBe(false);
  });
});

function unwrapOrThrow(source: string): { expr: expr.Expr; source: string } {
  const inner = expr.unwrapBraces(source);
  const parsed = expr.parseExpression(inner);
  if (!parsed.ok) throw new Error(parsed.error);
  return { expr: parsed.expr, source: inner };
}
