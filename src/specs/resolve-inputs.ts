import type { AgentSpec, InputValue } from './agent-spec.js';
import { describeValue, parseBooleanText, parseDecimal } from './input-values.js';

/** Most inputs a run may be given. */
export const MAX_GIVEN_INPUTS = 64;
/** Largest given input value, serialized as JSON, in bytes. */
export const MAX_INPUT_VALUE_BYTES = 16 * 1024;

/** The result of resolving a run's inputs: every declared input (defaulted) plus the undeclared ones given, or why not. */
export type ResolveInputsResult = { ok: true; inputs: Record<string, InputValue> } | { ok: false; error: string };

// Undeclared names become environment variables (OKESU_INPUT_<NAME>) and template paths: keep them plain words.
const INPUT_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * Resolves a run's inputs (SPEC §4): each declared input's default, overridden by `given`. A string given for a
 * number, boolean or list input is coerced (lists split on commas and newlines); a list given for a string input is
 * kept as a list; undeclared keys are kept as given.
 * Errors name the input and what was expected.
 */
export function resolveInputs(agent: AgentSpec, given: Record<string, unknown>): ResolveInputsResult {
  const inputs: Record<string, InputValue> = Object.create(null) as Record<string, InputValue>;
  for (const [name, spec] of Object.entries(agent.inputs)) inputs[name] = spec.default;

  const entries = Object.entries(given);
  if (entries.length > MAX_GIVEN_INPUTS) return { ok: false, error: `${entries.length} inputs given; at most ${MAX_GIVEN_INPUTS} are allowed` };
  for (const [name, value] of entries) {
    if (value === undefined) continue;
    const bytes = Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
    if (bytes > MAX_INPUT_VALUE_BYTES) {
      return { ok: false, error: `input ${name}: value is ${bytes} bytes; at most ${MAX_INPUT_VALUE_BYTES} are allowed` };
    }
    const declared = Object.hasOwn(agent.inputs, name) ? agent.inputs[name] : undefined;
    const coerced = declared ? coerce(value, declared.default) : undeclared(name, value);
    if (typeof coerced === 'object' && !Array.isArray(coerced)) return { ok: false, error: `input ${name}: ${coerced.error}` };
    inputs[name] = coerced;
  }
  return { ok: true, inputs: { ...inputs } };
}

/** A value given for an input the agent does not declare: any input-shaped value under a plain name. */
function undeclared(name: string, value: unknown): InputValue | { error: string } {
  if (!INPUT_NAME.test(name)) return { error: 'not a valid input name (letters, digits and _, at most 64, not starting with a digit)' };
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : { error: 'expected a finite number' };
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  return { error: 'expected a string, a number, true/false or a list of strings' };
}

/** Coerces a given value to the type of the declared input's default. */
function coerce(value: unknown, model: InputValue): InputValue | { error: string } {
  if (Array.isArray(model)) {
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
    if (typeof value === 'string') return value.split(/[,\n]/).map((v) => v.trim()).filter((v) => v !== '');
    // `--input ports=3333` reads as a number: a list of one.
    if (typeof value === 'number' || typeof value === 'boolean') return [String(value)];
    return { error: `expected a list of strings (or one string of items separated by commas or newlines), got ${describeValue(value)}` };
  }
  if (typeof model === 'number') {
    if (typeof value === 'number') return Number.isFinite(value) ? value : { error: `expected a finite number, got ${String(value)}` };
    const n = typeof value === 'string' ? parseDecimal(value) : undefined;
    if (n !== undefined) return n;
    return { error: `expected a number, got ${describeValue(value)}` };
  }
  if (typeof model === 'boolean') {
    if (typeof value === 'boolean') return value;
    const b = typeof value === 'string' ? parseBooleanText(value) : undefined;
    if (b !== undefined) return b;
    return { error: `expected true/false, yes/no or 1/0, got ${describeValue(value)}` };
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  // A list where one string was declared (several paths for one path): kept, it renders as `a, b` and one per env line.
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  return { error: `expected a string (or a list of strings), got ${describeValue(value)}` };
}
