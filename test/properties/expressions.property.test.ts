import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateExpression, ExpressionError, parseExpression, parseTemplate, renderTemplate } from '../../src/specs/expr/index.js';
import { budget, withinBound } from './budget.js';

// Pieces the language is made of, so random strings reach deep into the parser rather than failing at the first byte.
const exprToken = fc.constantFrom(
  'a', 'b.c', 'byNode["h"]', 'x.y[0]', '1', '2.5', '-3', "'s'", '"t"', 'true', 'false', 'null',
  '==', '!=', '<', '>', '<=', '>=', '&&', '||', '!', 'in', 'contains', '|', 'json', 'length', 'first', 'last',
  '(', ')', '[', ']', ',', '.', ' ', '__proto__', 'constructor', '{{', '}}', '\\', "'", '"',
);
const exprText = fc.oneof(fc.string({ maxLength: 200 }), fc.array(exprToken, { maxLength: 60 }).map((parts) => parts.join(' ')), fc.array(exprToken, { maxLength: 60 }).map((parts) => parts.join('')));

// A scope of JSON values with hostile keys, as step results from hosts are.
const scope = fc.dictionary(fc.constantFrom('a', 'b', 'x', 'byNode', '__proto__', 'constructor'), fc.jsonValue({ maxDepth: 4 }), { maxKeys: 6 });

// Expressions that are valid by construction: the grammar, generated.
const { validExpr } = fc.letrec((tie) => ({
  validExpr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('a', 'b.c', 'x.y[0]', 'byNode["h"].result', '1', '2.5', "'str'", 'true', 'null'),
    fc.tuple(tie('validExpr'), fc.constantFrom('==', '!=', '<', '>=', '&&', '||', 'in', 'contains'), tie('validExpr')).map(([l, op, r]) => `(${l as string}) ${op} (${r as string})`),
    tie('validExpr').map((e) => `!(${e as string})`),
    fc.tuple(tie('validExpr'), fc.constantFrom('json', 'length', 'first', 'last')).map(([e, f]) => `(${e as string}) | ${f}`),
    fc.array(tie('validExpr'), { maxLength: 3 }).map((items) => `[${(items as string[]).join(', ')}]`),
  ),
}));

describe('orchestration expressions (property)', () => {
  it('parseExpression never throws, is bounded in time, and says what is wrong', () => {
    fc.assert(
      fc.property(exprText, (source) => {
        const result = withinBound('parseExpression', () => parseExpression(source));
        if (!result.ok) expect(result.error.length).toBeGreaterThan(0);
      }),
      budget(1000),
    );
  });

  it('deep nesting is refused with an error, not a stack overflow', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 2000 }), fc.constantFrom(['(', ')'], ['!', ''], ['[', ']'], ['!(', ')']), (depth, [open, close]) => {
        const result = parseExpression(`${open.repeat(depth)}a${close.repeat(depth)}`);
        expect(result.ok).toBe(false);
      }),
      budget(50),
    );
  });

  it('every expression the grammar allows parses, and evaluating it throws nothing but ExpressionError', () => {
    fc.assert(
      fc.property(validExpr, scope, (source, values) => {
        const parsed = parseExpression(source);
        expect(parsed.ok, `${source}: ${parsed.ok ? '' : parsed.error}`).toBe(true);
        if (!parsed.ok) return;
        try {
          withinBound('evaluateExpression', () => evaluateExpression(parsed.expr, values, source));
        } catch (err) {
          expect(err).toBeInstanceOf(ExpressionError);
          expect((err as ExpressionError).message).toContain(source);
        }
      }),
      budget(500),
    );
  });

  it('evaluation never reads through the prototype chain', () => {
    fc.assert(
      fc.property(fc.constantFrom('a.__proto__', 'a.constructor', 'a["__proto__"].polluted', 'a.constructor.prototype', 'x.toString'), (source) => {
        const parsed = parseExpression(source);
        if (!parsed.ok) return;
        const value = evaluateExpression(parsed.expr, { a: {}, x: 'text' }, source);
        expect(value).toBeUndefined();
      }),
      budget(20),
    );
  });

  it('templates: parse never throws; render of a parsed template returns a string or an ExpressionError', () => {
    const templateText = fc.array(fc.oneof(fc.string({ maxLength: 20 }), exprText.map((e) => `{{ ${e} }}`), fc.constantFrom('{{', '}}', '{', '}')), { maxLength: 8 }).map((p) => p.join(''));
    fc.assert(
      fc.property(templateText, scope, (source, values) => {
        const parsed = withinBound('parseTemplate', () => parseTemplate(source));
        if (!parsed.ok) {
          expect(parsed.error.length).toBeGreaterThan(0);
          return;
        }
        try {
          expect(typeof withinBound('renderTemplate', () => renderTemplate(parsed.template, values))).toBe('string');
        } catch (err) {
          expect(err).toBeInstanceOf(ExpressionError);
        }
      }),
      budget(500),
    );
  });
});
