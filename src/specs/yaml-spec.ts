import { LineCounter, isMap, isScalar, parseDocument } from 'yaml';
import type { Document, Node } from 'yaml';
import type { z } from 'zod';
import type { SpecError } from './spec-error.js';
import { MAX_JSON_DEPTH } from '../protocol/json-value.js';
import { yamlNestsDeeperThan } from './yaml-depth.js';

export { formatSpecError } from './spec-error.js';
export type { SpecError } from './spec-error.js';

/** A field path inside a spec: keys and list positions. */
export type SpecPath = (string | number)[];

/** How one kind of YAML spec (agent frontmatter, host policy, orchestration) is read. */
export interface YamlSpecOptions {
  /** The file's name in errors. */
  source: string;
  /** File line of the YAML's first line (an agent's frontmatter starts on line 2). Default 1. */
  firstLine?: number;
  /** Message when the document is not a mapping, e.g. `frontmatter must be a mapping of fields (name: value)`. */
  notAMapping: string;
  /** Keys allowed in the mapping at a path (list positions as numbers), for "did you mean" hints. */
  knownKeys: (path: SpecPath) => readonly string[];
  /** Adjusts the plain data before validation (e.g. keep a number as written). */
  prepare?: (doc: Document, data: Record<string, unknown>) => void;
}

/** A validated spec and where its parts are, or every error found. */
export type YamlSpecResult<T> =
  | { ok: true; data: T; locate: (path: SpecPath) => { line: number; column: number } }
  | { ok: false; errors: SpecError[] };

/**
 * Parses YAML and validates it with `schema`, mapping every problem — YAML syntax, a zod issue, an unknown key — to
 * the file line and column of the node it is about, with a "did you mean" for a mistyped key. Errors come sorted by
 * position, all at once.
 */
export function parseYamlSpec<T>(yaml: string, schema: z.ZodType<T>, options: YamlSpecOptions): YamlSpecResult<T> {
  const { source } = options;
  const firstLine = options.firstLine ?? 1;
  const tooDeep = yamlNestsDeeperThan(yaml);
  if (tooDeep !== undefined) {
    const before = yaml.slice(0, tooDeep);
    const line = firstLine + (before.match(/\n/g)?.length ?? 0);
    return { ok: false, errors: [{ source, line, column: tooDeep - before.lastIndexOf('\n'), field: '', message: `invalid YAML: nested more than ${MAX_JSON_DEPTH} levels deep` }] };
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(yaml, { lineCounter, prettyErrors: false });
  const at = (offset: number): { line: number; column: number } => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line + firstLine - 1, column: pos.col };
  };
  const locate = (path: SpecPath): { line: number; column: number } => locateNode(doc, path, at) ?? { line: firstLine, column: 1 };
  const fail = (errors: SpecError[]): YamlSpecResult<T> => ({ ok: false, errors: errors.sort((a, b) => a.line - b.line || a.column - b.column) });

  if (doc.errors.length > 0) return fail(doc.errors.map((e) => ({ source, ...at(e.pos[0]), field: '', message: `invalid YAML: ${e.message}` })));
  if (doc.contents !== null && !isMap(doc.contents)) return fail([{ source, ...at(doc.contents.range[0]), field: '', message: options.notAMapping }]);
  let data: Record<string, unknown>;
  try {
    data = (doc.toJS() as Record<string, unknown> | null) ?? {};
  } catch (err) {
    return fail([{ source, line: firstLine, column: 1, field: '', message: `invalid YAML: ${(err as Error).message}` }]);
  }
  options.prepare?.(doc, data);

  const parsed = schema.safeParse(data);
  if (parsed.success) return { ok: true, data: parsed.data, locate };
  return fail(parsed.error.issues.flatMap((issue) => issueToErrors(issue, doc, options, at, locate)));
}

type Locate = (offset: number) => { line: number; column: number };

/** Maps one zod issue to errors located at the YAML node it is about (an unknown key yields one error per key, at the key). */
function issueToErrors(issue: z.core.$ZodIssue, doc: Document, options: YamlSpecOptions, at: Locate, locate: (path: SpecPath) => { line: number; column: number }): SpecError[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    const parent = path.length === 0 ? doc.contents : doc.getIn(path, true);
    return issue.keys.map((key) => {
      const pair = isMap(parent) ? parent.items.find((p) => isScalar(p.key) && String(p.key.value) === key) : undefined;
      const keyNode = pair && isScalar(pair.key) ? pair.key : undefined;
      const known = options.knownKeys(path);
      const hint = suggest(key, known);
      const message = hint ? `unknown field; did you mean ${hint}?` : known.length > 0 ? `unknown field (expected ${known.join(', ')})` : 'unknown field';
      return { source: options.source, ...(keyNode?.range ? at(keyNode.range[0]) : locate(path)), field: [...path, key].join('.'), message };
    });
  }
  return [{ source: options.source, ...locate(path), field: path.join('.'), message: issueText(issue) }];
}

/** Line and column of the deepest existing node on `path` (a missing field points at its parent). */
function locateNode(doc: Document, path: SpecPath, at: Locate): { line: number; column: number } | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = (depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true)) as Node | null | undefined;
    if (node?.range) return at(node.range[0]);
  }
  return undefined;
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
