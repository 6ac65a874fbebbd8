/** Pieces shared by the agents' input resolution and the orchestrations' trigger resolution. */

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const BOOLEANS: Record<string, boolean> = { true: true, yes: true, '1': true, false: false, no: false, '0': false };

/** A finite number written in decimal (`0x10` and `1_000` are not), or undefined. */
export function parseDecimal(text: string): number | undefined {
  const t = text.trim();
  if (!DECIMAL.test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** `true/false`, `yes/no`, `1/0` in any case, or undefined. */
export function parseBooleanText(text: string): boolean | undefined {
  const key = text.trim().toLowerCase();
  return Object.hasOwn(BOOLEANS, key) ? BOOLEANS[key] : undefined;
}

/** A short description of a bad value for an error message (its type, and its text when short). */
export function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'string') return value.length <= 40 ? JSON.stringify(value) : `a string of ${value.length} characters`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
