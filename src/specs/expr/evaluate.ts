import type { BinaryOp, Expr, FilterName } from './parse-expression.js';

/** An expression that failed at run time; the message names the expression: `in "a > 'x'": cannot compare…`. */
export class ExpressionError extends Error {
  override readonly name = 'ExpressionError';

  constructor(
    /** The source text of the expression that failed. */
    readonly expression: string,
    /** What went wrong, without the expression. */
    readonly detail: string,
  ) {
    super(`in "${expression}": ${detail}`);
  }
}

/** Thrown inside the evaluator only; `evaluateExpression` wraps it into an `ExpressionError`. */
class EvalFault extends Error {}

// Never read through these, even when a value (e.g. from JSON.parse) has them as own keys.
const BLOCKED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
// Deep equality and `json` walk scope values, which come from JSON but are not ours: bound the walk.
const MAX_VALUE_DEPTH = 200;

/**
 * Evaluates a parsed expression against a scope. A path that does not exist is `undefined` (no error); a type
 * error (ordering a number against a string, `length` of a number…) throws an `ExpressionError` naming `source`.
 */
export function evaluateExpression(expr: Expr, scope: Record<string, unknown>, source: string): unknown {
  try {
    return evaluate(expr, scope);
  } catch (err) {
    if (err instanceof EvalFault) throw new ExpressionError(source, err.message);
    throw err;
  }
}

/** The truth of a value for `when`, `!`, `&&` and `||`: false for false, null, undefined, 0, '', NaN and []. */
export function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  return Boolean(value);
}

function evaluate(expr: Expr, scope: Record<string, unknown>): unknown {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'list':
      return expr.items.map((item) => evaluate(item, scope));
    case 'ident':
      return readKey(scope, expr.name);
    case 'member':
      return readKey(evaluate(expr.object, scope), expr.name);
    case 'index':
      return readIndex(evaluate(expr.object, scope), evaluate(expr.index, scope));
    case 'not':
      return !truthy(evaluate(expr.operand, scope));
    case 'logical': {
      const left = truthy(evaluate(expr.left, scope));
      if (expr.op === '&&') return left && truthy(evaluate(expr.right, scope));
      return left || truthy(evaluate(expr.right, scope));
    }
    case 'binary':
      return binary(expr.op, evaluate(expr.left, scope), evaluate(expr.right, scope));
    case 'filter':
      return applyFilter(expr.name, evaluate(expr.input, scope));
  }
}

/** Is `value` a plain object (a JSON object), as opposed to a list, a class instance or a primitive? */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function readKey(target: unknown, key: string): unknown {
  if (BLOCKED_KEYS.has(key) || !isPlainObject(target) || !Object.hasOwn(target, key)) return undefined;
  return target[key];
}

function readIndex(target: unknown, key: unknown): unknown {
  if (Array.isArray(target)) {
    return typeof key === 'number' && Number.isInteger(key) && key >= 0 && key < target.length ? (target[key] as unknown) : undefined;
  }
  return typeof key === 'string' ? readKey(target, key) : undefined;
}

/** How a value's type is named in an error message. */
function typeName(value: unknown): string {
  if (value === undefined) return 'a missing value';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'boolean') return 'a boolean';
  return `a ${typeof value}`;
}

function binary(op: BinaryOp, left: unknown, right: unknown): boolean {
  switch (op) {
    case '==':
      return deepEqual(left, right, 0);
    case '!=':
      return !deepEqual(left, right, 0);
    case '<':
    case '>':
    case '<=':
    case '>=':
      return compare(op, left, right);
    case 'in':
      return member(left, right);
    case 'contains':
      return member(right, left);
  }
}

function compare(op: '<' | '>' | '<=' | '>=', left: unknown, right: unknown): boolean {
  const comparable =
    (typeof left === 'number' && typeof right === 'number') || (typeof left === 'string' && typeof right === 'string');
  if (!comparable) throw new EvalFault(`cannot compare ${typeName(left)} with ${typeName(right)} using ${op}`);
  const [a, b] = [left, right] as [number | string, number | string];
  if (op === '<') return a < b;
  if (op === '>') return a > b;
  if (op === '<=') return a <= b;
  return a >= b;
}

/** `needle in haystack`: an element of a list, a substring of a string, a key of an object; nothing is in a missing value. */
function member(needle: unknown, haystack: unknown): boolean {
  if (haystack === undefined || haystack === null) return false;
  if (Array.isArray(haystack)) return haystack.some((item) => deepEqual(needle, item, 0));
  if (typeof haystack === 'string' && typeof needle === 'string') return haystack.includes(needle);
  if (isPlainObject(haystack) && typeof needle === 'string') return !BLOCKED_KEYS.has(needle) && Object.hasOwn(haystack, needle);
  throw new EvalFault(`cannot look for ${typeName(needle)} in ${typeName(haystack)}`);
}

/** Deep equality of JSON values, no coercion between types; a missing value equals null (JSON has no undefined). */
function deepEqual(a: unknown, b: unknown, depth: number): boolean {
  if (depth > MAX_VALUE_DEPTH) throw new EvalFault(`values nest deeper than ${MAX_VALUE_DEPTH} levels`);
  const left = a === undefined ? null : a;
  const right = b === undefined ? null : b;
  if (left === right) return true;
  if (Array.isArray(left) || Array.isArray(right)) {
    if (!Array.isArray(left) || !Array.isArray(right) || left.length !== right.length) return false;
    return left.every((item, i) => deepEqual(item, right[i], depth + 1));
  }
  if (isPlainObject(left) && isPlainObject(right)) {
    const keys = Object.keys(left);
    if (keys.length !== Object.keys(right).length) return false;
    return keys.every((key) => Object.hasOwn(right, key) && deepEqual(left[key], right[key], depth + 1));
  }
  return false;
}

function applyFilter(name: FilterName, value: unknown): unknown {
  switch (name) {
    case 'json':
      return toJson(value);
    case 'length':
      if (value === undefined || value === null) return 0;
      if (typeof value === 'string' || Array.isArray(value)) return value.length;
      if (isPlainObject(value)) return Object.keys(value).length;
      throw new EvalFault(`cannot take the length of ${typeName(value)}`);
    case 'first':
    case 'last':
      if (value === undefined || value === null) return undefined;
      if (!Array.isArray(value)) throw new EvalFault(`${name} needs a list, not ${typeName(value)}`);
      return name === 'first' ? (value[0] as unknown) : (value[value.length - 1] as unknown);
  }
}

// JSON text of a value (`null` for a missing one); a value that cannot be written as JSON is an error, not a crash.
function toJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch (err) {
    throw new EvalFault(`cannot write the value as JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

/**
 * Every path the expression reads from its scope, as the static prefix of names and literal keys:
 * `scan.byNode["web-1"].result.x` → ['scan', 'byNode', 'web-1', 'result', 'x']; a computed index ends the prefix
 * and its own paths are listed too. Distinct, in order of first appearance.
 */
export function expressionRefs(expr: Expr): string[][] {
  const found = new Map<string, string[]>();
  collectRefs(expr, found);
  return [...found.values()];
}

function collectRefs(expr: Expr, found: Map<string, string[]>): void {
  switch (expr.kind) {
    case 'literal':
      return;
    case 'list':
      for (const item of expr.items) collectRefs(item, found);
      return;
    case 'not':
      collectRefs(expr.operand, found);
      return;
    case 'logical':
    case 'binary':
      collectRefs(expr.left, found);
      collectRefs(expr.right, found);
      return;
    case 'filter':
      collectRefs(expr.input, found);
      return;
    case 'ident':
    case 'member':
    case 'index':
      collectPathRefs(expr, found);
      return;
  }
}

function collectPathRefs(expr: Expr & { kind: 'ident' | 'member' | 'index' }, found: Map<string, string[]>): void {
  // Unwind the chain to its root: steps[0] is the access nearest the root.
  const steps: (Expr & { kind: 'member' | 'index' })[] = [];
  let root: Expr = expr;
  while (root.kind === 'member' || root.kind === 'index') {
    steps.unshift(root);
    root = root.object;
  }
  if (root.kind !== 'ident') collectRefs(root, found);
  let prefix: string[] | undefined = root.kind === 'ident' ? [root.name] : undefined;
  for (const step of steps) {
    if (!prefix) break;
    if (step.kind === 'member') prefix.push(step.name);
    else if (step.index.kind === 'literal' && (typeof step.index.value === 'string' || typeof step.index.value === 'number')) {
      prefix.push(String(step.index.value));
    } else {
      const key = JSON.stringify(prefix);
      if (!found.has(key)) found.set(key, prefix);
      prefix = undefined;
    }
  }
  if (prefix) {
    const key = JSON.stringify(prefix);
    if (!found.has(key)) found.set(key, prefix);
  }
  for (const step of steps) if (step.kind === 'index') collectRefs(step.index, found);
}
