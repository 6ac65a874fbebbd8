import { evaluateExpression, expressionRefs, ExpressionError } from './evaluate.js';
import { parseExpression } from './parse-expression.js';
import type { Expr } from './parse-expression.js';
import { skipString } from './tokenize.js';

/** A parsed template: literal text and `{{ expr }}` placeholders, in order. `source` of a placeholder is its inner text. */
export type Template = { source: string; parts: ({ text: string } | { expr: Expr; source: string })[] };

/** The result of `parseTemplate`: the template, or an error naming the column (0-based offset) of the bad placeholder. */
export type ParseTemplateResult = { ok: true; template: Template } | { ok: false; error: string };

/** Where the placeholder opening at `open` (the offset of its `{{`) closes: the offset of its `}}`, or -1. */
function findClose(source: string, open: number): number {
  let pos = open + 2;
  while (pos < source.length) {
    const ch = source[pos];
    if (ch === "'" || ch === '"') {
      const end = skipString(source, pos);
      if (end < 0) return -1;
      pos = end;
    } else if (ch === '}' && source[pos + 1] === '}') {
      return pos;
    } else {
      pos += 1;
    }
  }
  return -1;
}

/**
 * Parses a template: `{{ expr }}` placeholders (any expression, filters allowed) in literal text. A `}}` inside a
 * quoted string does not close a placeholder; an unclosed `{{` or a bad expression is an error naming the column.
 * There is no escape: write a literal `{{` as `{{ '{{' }}`.
 */
export function parseTemplate(source: string): ParseTemplateResult {
  const parts: Template['parts'] = [];
  let pos = 0;
  while (pos < source.length) {
    const open = source.indexOf('{{', pos);
    if (open < 0) break;
    if (open > pos) parts.push({ text: source.slice(pos, open) });
    const close = findClose(source, open);
    if (close < 0) return { ok: false, error: `unclosed {{ at ${open} in "${source}"` };
    const inner = source.slice(open + 2, close).trim();
    const parsed = parseExpression(inner);
    if (!parsed.ok) return { ok: false, error: `in the placeholder at ${open}: ${parsed.error}` };
    parts.push({ expr: parsed.expr, source: inner });
    pos = close + 2;
  }
  if (pos < source.length) parts.push({ text: source.slice(pos) });
  return { ok: true, template: { source, parts } };
}

/** How a template renders one value: strings as is, numbers and booleans as text, null/missing as '', the rest as JSON (an `ExpressionError` naming `expression` if it cannot be). */
export function renderValue(value: unknown, expression: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === undefined || value === null) return '';
  try {
    return JSON.stringify(value) ?? '';
  } catch (err) {
    throw new ExpressionError(expression, `cannot write the value as JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

/**
 * Renders a template against a scope. One pass, no code: text a value brings in (even `{{ x }}`) is never
 * expanded again. Throws an `ExpressionError` naming the placeholder when one fails to evaluate.
 */
export function renderTemplate(template: Template, scope: Record<string, unknown>): string {
  let out = '';
  for (const part of template.parts) {
    out += 'text' in part ? part.text : renderValue(evaluateExpression(part.expr, scope, part.source), part.source);
  }
  return out;
}

/** Every path the template's placeholders read from the scope (see `expressionRefs`), distinct, in order. */
export function templateRefs(template: Template): string[][] {
  const found = new Map<string, string[]>();
  for (const part of template.parts) {
    if ('text' in part) continue;
    for (const ref of expressionRefs(part.expr)) {
      const key = JSON.stringify(ref);
      if (!found.has(key)) found.set(key, ref);
    }
  }
  return [...found.values()];
}

/** Is the whole string (surrounding whitespace aside) exactly one `{{ … }}` placeholder? */
export function isSingleExpression(source: string): boolean {
  const trimmed = source.trim();
  return trimmed.startsWith('{{') && findClose(trimmed, 0) === trimmed.length - 2;
}

/** The inner expression when the whole string is one `{{ … }}` (`when: "{{a == 1}}"` → `a == 1`), else the string itself. */
export function unwrapBraces(source: string): string {
  if (!isSingleExpression(source)) return source;
  const trimmed = source.trim();
  return trimmed.slice(2, -2).trim();
}
