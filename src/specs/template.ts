/** Options of `renderTemplate`. */
export interface RenderTemplateOptions {
  /** Called once per placeholder occurrence whose path resolves to nothing (it renders as ''). */
  onMissing?: (path: string) => void;
}

// `{{ path }}`: a dotted path of word segments (letters, digits, `_`, `-`), whitespace allowed inside the braces.
// Anything else between braces (`{{ .Values.x }}`, `{{ a b }}`) is not a placeholder and stays as text.
const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w-]*(?:\.[\w-]+)*)\s*\}\}/g;

/**
 * Replaces every `{{ path }}` with the value at that dotted path of `scope`: strings as is, numbers and booleans as
 * text, lists of strings joined with `, `, anything else as JSON; a missing path renders '' and calls `onMissing`.
 * One pass, no code: text a value brings in (even `{{ x }}`) is never expanded again.
 */
export function renderTemplate(template: string, scope: Record<string, unknown>, options: RenderTemplateOptions = {}): string {
  return template.replace(PLACEHOLDER, (_whole, path: string) => {
    const value = lookupPath(scope, path);
    if (value === undefined || value === null) {
      options.onMissing?.(path);
      return '';
    }
    return formatValue(value);
  });
}

/** The distinct placeholder paths a template uses, in order of first use (to validate a template against a scope). */
export function templatePaths(template: string): string[] {
  return [...new Set(Array.from(template.matchAll(PLACEHOLDER), (m) => m[1] as string))];
}

/** The value at a dotted path, following own properties only (never `__proto__`, `constructor`…), or undefined. */
export function lookupPath(scope: Record<string, unknown>, path: string): unknown {
  let current: unknown = scope;
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(segment)) return undefined;
      current = current[Number(segment)];
    } else {
      if (!Object.hasOwn(current, segment)) return undefined;
      current = (current as Record<string, unknown>)[segment];
    }
  }
  return current;
}

/** How a template renders one value. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join(', ');
  if (value === undefined || value === null) return '';
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return String(value); // a cycle: cannot happen with JSON inputs
  }
}
