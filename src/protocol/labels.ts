import { z } from 'zod';

// Names that are not plain keys of a JavaScript object: as a label key, `__proto__` is silently dropped by every
// object it is copied into (and the others shadow what code expects), so none of them is a label key.
const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** What a label key may be: 1 to 63 of A-Z a-z 0-9 . _ / -, and not a reserved object key. */
export function isLabelKey(key: string): boolean {
  return /^[A-Za-z0-9._/-]{1,63}$/.test(key) && !RESERVED_KEYS.has(key);
}

/** How a bad label key is described, wherever one is refused. */
export const LABEL_KEY_RULE = '1 to 63 of A-Z a-z 0-9 . _ / - (not __proto__, constructor or prototype)';

/** A label key. */
export const labelKeySchema = z.string().refine(isLabelKey, `expected a label key: ${LABEL_KEY_RULE}`);

/**
 * A host's labels: key → value (at most 256 characters). zod's record skips an own `__proto__` key (JSON.parse makes
 * one) instead of checking it, so it is looked for first: refused, never silently dropped.
 */
export const labelsSchema = z
  .unknown()
  .superRefine((value, ctx) => {
    if (value !== null && typeof value === 'object' && Object.hasOwn(value, '__proto__')) {
      ctx.addIssue({ code: 'custom', path: ['__proto__'], message: `expected a label key: ${LABEL_KEY_RULE}` });
    }
  })
  .pipe(z.record(labelKeySchema, z.string().max(256)));
