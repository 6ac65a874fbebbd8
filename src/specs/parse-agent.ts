import { isScalar } from 'yaml';
import type { Document } from 'yaml';
import { LIMITS } from '../protocol/limits.js';
import { FRONTMATTER_FIELDS, agentFrontmatterSchema } from './agent-spec.js';
import type { AgentSpec } from './agent-spec.js';
import { splitFrontmatter } from './frontmatter.js';
import { parseYamlSpec } from './yaml-spec.js';
import type { SpecError, SpecPath } from './yaml-spec.js';

export { formatSpecError } from './yaml-spec.js';
export type { SpecError } from './yaml-spec.js';

/** The result of parsing an agent: the spec, or every error found. */
export type ParseAgentResult = { ok: true; agent: AgentSpec } | { ok: false; errors: SpecError[] };

/** Parses an agent file (frontmatter + markdown body) into a fully defaulted `AgentSpec`; `source` is its path or `<dispatch>`. */
export function parseAgent(text: string, source: string): ParseAgentResult {
  const fail = (line: number, message: string): ParseAgentResult => ({ ok: false, errors: [{ source, line, column: 1, field: '', message }] });
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > LIMITS.agentDefinitionBytes) return fail(1, `agent file is ${bytes} bytes; the limit is ${LIMITS.agentDefinitionBytes}`);
  const split = splitFrontmatter(text);
  if (!split.ok) return fail(split.error.line, split.error.message);
  const { yaml, firstLine, body } = split.split;
  const parsed = parseYamlSpec(yaml, agentFrontmatterSchema, {
    source, firstLine, notAMapping: 'frontmatter must be a mapping of fields (name: value)', knownKeys, prepare: keepVersionText,
  });
  return parsed.ok ? { ok: true, agent: { ...parsed.data, body, source } } : parsed;
}

/** `version: 1.10` reads as the number 1.1 in YAML; keep what the author wrote. */
function keepVersionText(doc: Document, data: Record<string, unknown>): void {
  const node = doc.getIn(['version'], true);
  if (isScalar(node) && typeof node.value === 'number' && node.source) data.version = node.source;
}

/** The keys allowed in the frontmatter mapping at `path`, for "did you mean" hints. */
function knownKeys(path: SpecPath): readonly string[] {
  // Positions in lists, and the user-chosen names under `inputs`, are wildcards.
  const shape = path.map((p, i) => (typeof p === 'number' || (i === 1 && path[0] === 'inputs') ? '#' : p)).join('.');
  switch (shape) {
    case '': return FRONTMATTER_FIELDS;
    case 'rbac': return ['allow', 'deny'];
    case 'rbac.allow.#':
    case 'rbac.deny.#': return ['tool', 'pattern', 'reason'];
    case 'collectors.#': return ['name', 'command', 'timeout', 'optional', 'emit_output'];
    case 'rules.#': return ['name', 'collector', 'match', 'flags', 'threshold', 'new_since', 'key', 'max_findings', 'finding'];
    case 'rules.#.threshold': return ['capture', 'op', 'value'];
    case 'rules.#.finding': return ['severity', 'title', 'category', 'resource', 'dedup_key', 'evidence', 'recommended_action', 'tags'];
    case 'inputs.#': return ['default', 'description'];
    default: return [];
  }
}
