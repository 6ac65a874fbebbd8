import type { z } from 'zod';
import { OkesuError } from '../../errors.js';

/** Parses a request's query string with `schema`; a 400 naming each bad parameter otherwise. */
export function parseQuery<T extends z.ZodType>(schema: T, params: URLSearchParams): z.infer<T> {
  const parsed = schema.safeParse(Object.fromEntries(params));
  if (!parsed.success) throw new OkesuError('OKS_ERR_BAD_REQUEST', `query: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
