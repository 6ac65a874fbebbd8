/** Prefix of the environment variables that carry a run's inputs to collector commands. */
export const INPUT_ENV_PREFIX = 'OKESU_INPUT_';

/**
 * The environment carrying a run's inputs to collectors: `OKESU_INPUT_<NAME>` (upper case; characters other than
 * letters, digits and `_` become `_`). Lists are joined with newlines, booleans are `true`/`false`, objects are JSON.
 * Commands read inputs only from here, never from text spliced into the shell string, so a value cannot inject code.
 */
export function inputsToEnv(inputs: Record<string, unknown>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(inputs)) {
    if (value === undefined) continue;
    const key = `${INPUT_ENV_PREFIX}${name.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`;
    // NUL cannot be carried in an environment variable (spawn would fail): drop it.
    env[key] = envText(value).replaceAll('\0', '');
  }
  return env;
}

function envText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === null) return '';
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v) ?? '')).join('\n');
  return JSON.stringify(value) ?? '';
}
