import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { LineCounter, isMap, isScalar, parseDocument } from 'yaml';
import type { Document, Node } from 'yaml';
import type { z } from 'zod';
import { patternError } from '../../src/specs/glob-match.js';
import type { PatternKind } from '../../src/specs/glob-match.js';
import type { SpecError } from '../../src/specs/parse-agent.js';
import { EMPTY_POLICY, policyFileSchema } from '../../src/specs/policy-spec.js';
import type { HostPolicy } from '../../src/specs/policy-spec.js';

/** Largest policy file accepted. */
export const POLICY_MAX_BYTES = 1024 * 1024;

/** The host policy, or every problem found in its file (file:line:column and field). */
export type LoadPolicyResult = { ok: true; policy: HostPolicy } | { ok: false; errors: SpecError[] };

const LIST_KINDS: Record<string, PatternKind> = { agents: 'name', tools: 'name', commands: 'command', paths: 'path' };

const KNOWN_KEYS: Record<string, readonly string[]> = {
  '': ['deny', 'cp_definitions'],
  deny: ['agents', 'tools', 'commands', 'paths'],
  'deny.#.#': ['pattern', 'reason'],
};

/**
 * Reads and validates the host policy file (SPEC §4.3). A missing file is an error only when `required`
 * (the operator named it); otherwise the empty policy applies. The file must be a regular file of at most
 * 1 MiB, not writable by others and owned by root or the daimon's user (`uid`, default this process's): the
 * host owner's word must be theirs.
 */
export async function loadHostPolicy(path: string, opts: { required: boolean; uid?: number }): Promise<LoadPolicyResult> {
  const fail = (message: string, line = 1, column = 1, field = ''): LoadPolicyResult => ({
    ok: false,
    errors: [{ source: path, line, column, field, message }],
  });

  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return opts.required ? fail('policy file not found') : { ok: true, policy: { ...EMPTY_POLICY, source: '<none>' } };
    return fail(`cannot read the policy file: ${code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
  }
  let text: string;
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return fail('the policy file is not a regular file');
    if (stat.size > POLICY_MAX_BYTES) return fail(`the policy file is ${stat.size} bytes; the limit is ${POLICY_MAX_BYTES}`);
    if ((stat.mode & 0o002) !== 0) {
      return fail(`the policy file is writable by every user (mode ${(stat.mode & 0o777).toString(8).padStart(3, '0')}); refusing it (chmod o-w)`);
    }
    const uid = opts.uid ?? process.getuid?.();
    if (stat.uid !== 0 && uid !== undefined && stat.uid !== uid) {
      return fail(`the policy file is owned by uid ${stat.uid}, not root or this daimon's user (uid ${uid}); refusing it`);
    }
    const buf = Buffer.alloc(POLICY_MAX_BYTES + 1);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await handle.read(buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got > POLICY_MAX_BYTES) return fail(`the policy file is over ${POLICY_MAX_BYTES} bytes`);
    text = buf.subarray(0, got).toString('utf8');
  } catch (err) {
    return fail(`cannot read the policy file: ${(err as Error).message}`);
  } finally {
    await handle.close().catch(() => {});
  }
  return parsePolicy(text, path);
}

/** Parses the text of a policy file (YAML) into a `HostPolicy`; `source` names it in errors. */
export function parsePolicy(text: string, source: string): LoadPolicyResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (offset: number): { line: number; column: number } => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  if (doc.errors.length > 0) {
    return { ok: false, errors: doc.errors.map((e) => ({ source, ...at(e.pos[0]), field: '', message: `invalid YAML: ${e.message}` })) };
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    return { ok: false, errors: [{ source, ...at(doc.contents.range[0]), field: '', message: 'the policy must be a mapping (deny:, cp_definitions:)' }] };
  }
  let data: unknown;
  try {
    data = doc.toJS() ?? {};
  } catch (err) {
    return { ok: false, errors: [{ source, line: 1, column: 1, field: '', message: `invalid YAML: ${(err as Error).message}` }] };
  }

  const parsed = policyFileSchema.safeParse(data);
  if (!parsed.success) {
    const errors = parsed.error.issues.flatMap((issue) => issueErrors(issue, doc, source, at));
    return { ok: false, errors: errors.sort((a, b) => a.line - b.line || a.column - b.column) };
  }
  const policy: HostPolicy = { ...parsed.data, source };

  const errors: SpecError[] = [];
  for (const [list, kind] of Object.entries(LIST_KINDS)) {
    policy.deny[list as keyof HostPolicy['deny']].forEach((entry, i) => {
      const problem = patternError(entry.pattern, kind);
      if (!problem) return;
      const path = ['deny', list, i];
      const node = doc.getIn(path, true);
      const field = isMap(node) ? [...path, 'pattern'] : path;
      errors.push({ source, ...locate(doc, field, at), field: field.join('.'), message: problem });
    });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, policy };
}

type Locate = (offset: number) => { line: number; column: number };

/** Maps one zod issue to errors at the YAML node it is about; an unknown key yields one error per key, at the key. */
function issueErrors(issue: z.core.$ZodIssue, doc: Document, source: string, at: Locate): SpecError[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    const parent = path.length === 0 ? doc.contents : doc.getIn(path, true);
    const shape = path.map((p) => (typeof p === 'number' ? '#' : p)).join('.').replace(/^deny\.\w+/, 'deny.#');
    const known = KNOWN_KEYS[shape] ?? [];
    return issue.keys.map((key) => {
      const pair = isMap(parent) ? parent.items.find((p) => isScalar(p.key) && String(p.key.value) === key) : undefined;
      const keyNode = pair && isScalar(pair.key) ? pair.key : undefined;
      return {
        source,
        ...(keyNode?.range ? at(keyNode.range[0]) : locate(doc, path, at)),
        field: [...path, key].join('.'),
        message: `unknown field${known.length ? ` (expected ${known.join(', ')})` : ''}`,
      };
    });
  }
  const message = issue.message.replace(/^Invalid input: /, '');
  return [{ source, ...locate(doc, path, at), field: path.join('.'), message: message.charAt(0).toLowerCase() + message.slice(1) }];
}

/** Line and column of the deepest existing node on `path`. */
function locate(doc: Document, path: (string | number)[], at: Locate): { line: number; column: number } {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = (depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true)) as Node | null | undefined;
    if (node?.range) return at(node.range[0]);
  }
  return { line: 1, column: 1 };
}
