import { readFile, stat } from 'node:fs/promises';
import { OkesuError } from '../../errors.js';
import { formatSpecError } from '../../specs/spec-error.js';
import type { SpecError } from '../../specs/spec-error.js';
import type { OrchestrationSpec } from '../../specs/orchestration/orchestration-types.js';

/** One orchestration file checked locally: its text and spec, or what is wrong with it. */
export type CheckedFile = { file: string; ok: true; text: string; spec: OrchestrationSpec } | { file: string; ok: false; errors: SpecError[] };

/** Reads and parses an orchestration file; a file that cannot be read is an error at 1:1. */
export async function checkOrchestrationFile(file: string): Promise<CheckedFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { file, ok: false, errors: [{ source: file, line: 1, column: 1, field: '', message: `cannot read: ${code ?? String(err)}` }] };
  }
  // The parser (YAML, the spec schemas, the expression language) is loaded on use: every okesu process, the daimon
  // included, evaluates the command modules.
  const { parseOrchestration } = await import('../../specs/orchestration/parse-orchestration.js');
  const parsed = parseOrchestration(text, file);
  return parsed.ok ? { file, ok: true, text, spec: parsed.spec } : { file, ok: false, errors: parsed.errors };
}

/** The `validate` line of a good file: `file: ok (name, 3 steps)`. */
export function okLine(file: string, spec: OrchestrationSpec): string {
  const triggers = spec.triggers.length > 0 ? `, ${spec.triggers.length} trigger${spec.triggers.length === 1 ? '' : 's'}` : '';
  return `${file}: ok (${spec.name}, ${spec.steps.length} step${spec.steps.length === 1 ? '' : 's'}${triggers})`;
}

/** Every error of a bad file as `file:line:col: field: message` lines. */
export function errorLines(errors: readonly SpecError[]): string[] {
  return errors.map(formatSpecError);
}

/** What `orchestrate run` starts: a stored orchestration by name, or a local file sent inline. */
export type RunSource = { kind: 'name'; name: string } | { kind: 'file'; file: string };

const YAML_FILE = /\.ya?ml$/i;

/** A readable `.yaml`/`.yml` path is a file; a path-like argument that is not one is an error; anything else is a stored name. */
export async function resolveRunSource(arg: string): Promise<RunSource> {
  const pathLike = /[\\/]/.test(arg);
  if (!YAML_FILE.test(arg) && !pathLike) return { kind: 'name', name: arg };
  let isFile = false;
  try {
    isFile = (await stat(arg)).isFile();
  } catch {
    // Not there: a bare `name.yaml` may still be a stored name (names may contain dots).
    if (!pathLike) return { kind: 'name', name: arg };
  }
  if (!isFile) throw new OkesuError('OKS_ERR_NOT_FOUND', `${arg} is not a readable orchestration file`);
  return { kind: 'file', file: arg };
}
