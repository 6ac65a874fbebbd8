import { MAX_GIVEN_INPUTS, MAX_INPUT_VALUE_BYTES } from '../resolve-inputs.js';
import { describeValue, parseBooleanText, parseDecimal } from '../input-values.js';
import type { OrchestrationInput, OrchestrationSpec } from './orchestration-types.js';

/** A value a declared orchestration input can take once coerced. */
export type OrchestrationInputValue = string | number | boolean | string[];

/** The result of resolving a manual run's inputs: the `trigger` object templates read, or why not. */
export type ResolveTriggerResult = { ok: true; trigger: Record<string, unknown> } | { ok: false; error: string };

const INTEGER = /^[+-]?\d+$/;

/**
 * Builds the `trigger` of a manual run (SPEC §6): every declared input, given or defaulted and coerced to its type, plus
 * the undeclared inputs given, kept as they are. A declared input with no default that is not given is left out.
 */
export function resolveTrigger(spec: OrchestrationSpec, given: Record<string, unknown>): ResolveTriggerResult {
  const entries = Object.entries(given).filter(([, v]) => v !== undefined);
  if (entries.length > MAX_GIVEN_INPUTS) return { ok: false, error: `${entries.length} inputs given; at most ${MAX_GIVEN_INPUTS} are allowed` };
  const trigger: Record<string, unknown> = {};
  for (const [name, input] of Object.entries(spec.inputs)) {
    if (input.default !== undefined) trigger[name] = input.default;
  }
  for (const [name, value] of entries) {
    const bytes = Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
    if (bytes > MAX_INPUT_VALUE_BYTES) return { ok: false, error: `input ${name}: value is ${bytes} bytes; at most ${MAX_INPUT_VALUE_BYTES} are allowed` };
    const declared = Object.hasOwn(spec.inputs, name) ? spec.inputs[name] : undefined;
    if (!declared) {
      trigger[name] = value;
      continue;
    }
    // `--input pid=` on the command line: an empty value for a typed input means "not given".
    if (value === null || (value === '' && declared.type !== 'string')) continue;
    const coerced = coerceInput(declared.type, value);
    if (!coerced.ok) return { ok: false, error: `input ${name}: ${coerced.error}` };
    trigger[name] = coerced.value;
  }
  const missing = Object.entries(spec.inputs)
    .filter(([name, input]) => input.required && trigger[name] === undefined)
    .map(([name]) => name);
  if (missing.length > 0) {
    return { ok: false, error: `missing required input${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (give ${missing.map((m) => `--input ${m}=…`).join(' ')})` };
  }
  return { ok: true, trigger };
}

/** Coerces a given value to a declared input type: numeric strings to numbers, yes/no/1/0 to booleans, `a,b` to a list. */
export function coerceInput(type: OrchestrationInput['type'], value: unknown): { ok: true; value: OrchestrationInputValue } | { ok: false; error: string } {
  const fail = (expected: string) => ({ ok: false as const, error: `expected ${expected}, got ${describeValue(value)}` });
  switch (type) {
    case 'int': {
      if (typeof value === 'number') return Number.isSafeInteger(value) ? { ok: true, value } : fail('an integer');
      if (typeof value === 'string' && INTEGER.test(value.trim())) {
        const n = Number(value.trim());
        if (Number.isSafeInteger(n)) return { ok: true, value: n };
      }
      return fail('an integer');
    }
    case 'number': {
      if (typeof value === 'number') return Number.isFinite(value) ? { ok: true, value } : fail('a finite number');
      const n = typeof value === 'string' ? parseDecimal(value) : undefined;
      return n !== undefined ? { ok: true, value: n } : fail('a number');
    }
    case 'bool': {
      if (typeof value === 'boolean') return { ok: true, value };
      const b = typeof value === 'string' || typeof value === 'number' ? parseBooleanText(String(value)) : undefined;
      if (b !== undefined) return { ok: true, value: b };
      return fail('true/false, yes/no or 1/0');
    }
    case 'list': {
      if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) {
        return { ok: true, value: value.map(String) };
      }
      if (typeof value === 'string') return { ok: true, value: value.split(',').map((v) => v.trim()).filter((v) => v !== '') };
      if (typeof value === 'number' || typeof value === 'boolean') return { ok: true, value: [String(value)] };
      return fail('a list of strings (or one string of items separated by commas)');
    }
    case 'string': {
      if (typeof value === 'string') return { ok: true, value };
      if (typeof value === 'number' || typeof value === 'boolean') return { ok: true, value: String(value) };
      return fail('a string');
    }
  }
}
