import type { z } from 'zod';

/**
 * Deepest nesting of objects and arrays accepted in a free-form JSON value (run and orchestration inputs, event
 * bodies with their payloads, finding attributes). V8's JSON.parse takes any depth, but JSON.stringify, structuredClone
 * and every recursive walk overflow the stack a few thousand levels down; 64 is far beyond any real payload.
 */
export const MAX_JSON_DEPTH = 64;

/** The `params.code` of the zod issue a too-deep value raises, so an edge can answer OKS_ERR_NESTING_TOO_DEEP. */
export const NESTING_TOO_DEEP = 'OKS_ERR_NESTING_TOO_DEEP';

/**
 * True when `value` nests objects/arrays more than `limit` levels (a scalar is 0 deep, `{}` and `[1]` are 1). It walks
 * with its own stack, never recursion, so a value of any depth is measured safely; it stops at the first level past.
 */
export function nestsDeeperThan(value: unknown, limit: number = MAX_JSON_DEPTH): boolean {
  const stack: { v: object; depth: number }[] = [];
  if (value !== null && typeof value === 'object') stack.push({ v: value, depth: 1 });
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    if (top.depth > limit) return true;
    for (const child of Array.isArray(top.v) ? (top.v as unknown[]) : Object.values(top.v)) {
      if (child !== null && typeof child === 'object') stack.push({ v: child as object, depth: top.depth + 1 });
    }
  }
  return false;
}

/** `schema`, also refusing a value nested more than `limit` levels deep, with an issue at the value naming the limit. */
export function boundedJson<T extends z.ZodType>(schema: T, limit: number = MAX_JSON_DEPTH): T {
  return schema.superRefine((value, ctx) => {
    if (nestsDeeperThan(value, limit)) {
      ctx.addIssue({ code: 'custom', message: `nested more than ${limit} levels of objects and arrays deep`, params: { code: NESTING_TOO_DEEP } });
    }
  });
}

/** True when a zod error holds a too-deep issue: the edge answers OKS_ERR_NESTING_TOO_DEEP rather than a generic refusal. */
export function isNestingTooDeep(error: z.ZodError): boolean {
  return error.issues.some((issue) => issue.code === 'custom' && (issue.params as { code?: unknown } | undefined)?.code === NESTING_TOO_DEEP);
}
