import { unwrapBraces } from '../expr/index.js';
import { parseYamlSpec } from '../yaml-spec.js';
import type { SpecError } from '../yaml-spec.js';
import { checkReferences } from './check-references.js';
import { orchestrationKnownKeys, orchestrationSchema } from './orchestration-schema.js';
import type { OrchestrationSpec, TriggerSpec } from './orchestration-types.js';

export { formatSpecError } from '../yaml-spec.js';
export type { SpecError } from '../yaml-spec.js';

/** The result of parsing an orchestration: the fully defaulted spec, or every error found. */
export type ParseOrchestrationResult = { ok: true; spec: OrchestrationSpec } | { ok: false; errors: SpecError[] };

/** Largest orchestration file, in bytes (what `PUT /v1/orchestrations/:name` accepts). */
export const MAX_ORCHESTRATION_BYTES = 256 * 1024;

/**
 * Parses an orchestration file (SPEC §6) into a fully defaulted `OrchestrationSpec`; `source` is its path or `<api>`.
 * Shapes are checked first; when they are right, templates, `when`, triggers and step references are checked too. Every
 * error names the file, line, column and field.
 */
export function parseOrchestration(text: string, source: string): ParseOrchestrationResult {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_ORCHESTRATION_BYTES) {
    return { ok: false, errors: [{ source, line: 1, column: 1, field: '', message: `orchestration file is ${bytes} bytes; the limit is ${MAX_ORCHESTRATION_BYTES}` }] };
  }
  const parsed = parseYamlSpec(text, orchestrationSchema, {
    source,
    notAMapping: 'an orchestration must be a mapping of fields (name:, steps:, …)',
    knownKeys: orchestrationKnownKeys,
  });
  if (!parsed.ok) return parsed;
  const data = parsed.data;
  // `when` and finding filters may be written with or without the `{{ }}` of a placeholder; keep the bare expression.
  const spec: OrchestrationSpec = {
    ...data,
    triggers: data.triggers.map((t): TriggerSpec => (t.type === 'finding' ? { type: 'finding', filter: unwrapBraces(t.filter).trim() } : t)),
    steps: data.steps.map((s) => (s.when === undefined ? s : { ...s, when: unwrapBraces(s.when).trim() })),
    source,
  };
  const errors = checkReferences(spec, parsed.locate);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, spec };
}
