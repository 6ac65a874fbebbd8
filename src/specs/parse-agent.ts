import { LineCounter, isMap, isScalar, parseDocument } from 'yaml';
import type { Document, Node } from 'yaml';
import type { z } from 'zod';
import { LIMITS } from '../protocol/limits.js';
import { FRONTMATTER_FIELDS, agentFrontmatterSchema } from './agent-spec.js';
import type { AgentSpec } from './agent-spec.js';
import { splitFrontmatter } from './frontmatter.js';

/** One problem in an agent file, located at the offending value (1-based line and column of the file). */
export interface SpecError {
  source: string;
  line: number;
  column: number;
  /** Dotted path of the field, e.g. `collectors.0.timeout`; empty when the problem is not about one field. */
  field: string;
  message: string;
}

/** The result of parsing an agent: the spec, or every error found. */
export type ParseAgentResult = { ok: true; agent: AgentSpec } | { ok: false; errors: SpecError[] };

/** Formats an error the way compilers do: `file.md:3:5: provider: expected one of claude, codex, custom`. */
export function formatSpecError(e: SpecError): string {
  return `${e.source}:${e.line}:${e.column}: ${e.field ? `${e.field}: ` : ''}${e.message}`;
}

/** Parses an agent file (frontmatter + markdown body) into a fully defaulted `AgentSpec`; `source` is its path or `<dispatch>`. */
export function parseAgent(text: string, source: string): ParseAgentResult {
  const fail = (line: number, column: number, field: string, message: string): ParseAgentResult => ({
    ok: false,
    errors: [{ source, line, column, field, message }],
  });
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > LIMITS.agentDefinitionBytes) {
    return fail(1, 1, '', `agent file is ${bytes} bytes; the limit is ${LIMITS.agentDefinitionBytes}`);
  }
  const split = splitFrontmatter(text);
  if (!split.ok) return fail(split.error.line, 1, '', split.error.message);
  const { yaml, firstLine, body } = split.split;

  const lineCounter = new LineCounter();
  const doc = parseDocument(yaml, { lineCounter, prettyErrors: false });
  const at = (offset: number): { line: number; column: number } => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line + firstLine - 1, column: pos.col };
  };
  if (doc.errors.length > 0) {
    return { ok: false, errors: doc.errors.map((e) => ({ source, ...at(e.pos[0]), field: '', message: `invalid YAML: ${e.message}` })) };
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    return { ok: false, errors: [{ source, ...at(doc.contents.range[0]), field: '', message: 'frontmatter must be a mapping of fields (name: value)' }] };
  }

  let data: unknown;
  try {
    data = doc.toJS() ?? {};
  } catch (err) {
    return fail(firstLine, 1, '', `invalid YAML: ${(err as Error).message}`);
  }
  keepVersionText(doc, data as Record<string, unknown>);

  const parsed = agentFrontmatterSchema.safeParse(data);
  if (!parsed.success) {
    const errors = parsed.error.issues.flatMap((issue) => issueToErrors(issue, doc, source, firstLine, at));
    return { ok: false, errors: errors.sort((a, b) => a.line - b.line || a.column - b.column) };
  }
  return { ok: true, agent: { ...parsed.data, body, source } };
}

/** `version: 1.10` reads as the number 1.1 in YAML; keep what the author wrote. */
function keepVersionText(doc: Document, data: Record<string, unknown>): void {
  const node = doc.getIn(['version'], true);
  if (isScalar(node) && typeof node.value === 'number' && node.source) data.version = node.source;
}

type Locate = (offset: number) => { line: number; column: number };

/** Maps one zod issue to errors located at the YAML node it is about (an unknown key yields one error per key). */
function issueToErrors(issue: z.core.$ZodIssue, doc: Document, source: string, firstLine: number, at: Locate): SpecError[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    const parent = path.length === 0 ? doc.contents : doc.getIn(path, true);
    return issue.keys.map((key) => {
      const pair = isMap(parent) ? parent.items.find((p) => isScalar(p.key) && String(p.key.value) === key) : undefined;
      const keyNode = pair && isScalar(pair.key) ? pair.key : undefined;
      const hint = suggest(key, knownKeys(path));
      return {
        source,
        ...(keyNode?.range ? at(keyNode.range[0]) : { line: firstLine, column: 1 }),
        field: [...path, key].join('.'),
        message: `unknown field${hint ? `; did you mean ${hint}?` : ''}`,
      };
    });
  }
  return [{ source, ...locate(doc, path, firstLine, at), field: path.join('.'), message: issueText(issue) }];
}

/** Line and column of the deepest existing node on `path` (a missing field points at its parent). */
function locate(doc: Document, path: (string | number)[], firstLine: number, at: Locate): { line: number; column: number } {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = (depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true)) as Node | null | undefined;
    if (node?.range) return at(node.range[0]);
  }
  return { line: firstLine, column: 1 };
}

/** A short, lower-case message for a zod issue (drops zod's "Invalid input:" prefix). */
function issueText(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) return 'is required';
  // A record key that fails its schema: the key's own message says what was expected.
  if (issue.code === 'invalid_key' && issue.issues[0]) return issueText(issue.issues[0]);
  if (issue.code === 'invalid_value' && issue.message.startsWith('Invalid option')) {
    return `expected one of ${issue.values.map(String).join(', ')}`;
  }
  const text = issue.message.replace(/^Invalid input: /, '');
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** The keys allowed in the mapping at `path`, for "did you mean" hints. */
function knownKeys(path: (string | number)[]): readonly string[] {
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

/** The known key closest to `key` (edit distance at most 2), if any. */
function suggest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length] as number;
}
