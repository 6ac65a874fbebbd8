/** The expression and template language of orchestrations (SPEC §6): `when`, finding filters and `{{ … }}` placeholders. */
export { tokenize, PUNCTUATION } from './tokenize.js';
export type { Token, Punct, TokenizeResult } from './tokenize.js';
export { parseExpression, FILTERS, MAX_EXPRESSION_BYTES, MAX_EXPRESSION_DEPTH } from './parse-expression.js';
export type { Expr, BinaryOp, FilterName, ParseExpressionResult } from './parse-expression.js';
export { evaluateExpression, ExpressionError, truthy, expressionRefs } from './evaluate.js';
export { parseTemplate, renderTemplate, renderValue, templateRefs, isSingleExpression, unwrapBraces } from './template.js';
export type { Template, ParseTemplateResult } from './template.js';
