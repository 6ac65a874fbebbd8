import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { patternError } from '../../src/specs/glob-match.js';
import type { PatternKind } from '../../src/specs/glob-match.js';
import { agentKeyError } from '../../src/specs/agent-key.js';
import { parseYamlSpec } from '../../src/specs/yaml-spec.js';
import type { SpecError, SpecPath } from '../../src/specs/yaml-spec.js';
import { EMPTY_POLICY, policyFileSchema } from '../../src/specs/policy-spec.js';
import type { HostPolicy } from '../../src/specs/policy-spec.js';
import { SUPPRESS_MAX_AHEAD_MS } from '../../src/specs/suppress.js';
import type { SuppressMatch } from '../../src/specs/suppress.js';

/** Largest policy file accepted. */
export const POLICY_MAX_BYTES = 1024 * 1024;

/** The host policy, or every problem found in its file (file:line:column and field). */
export type LoadPolicyResult = { ok: true; policy: HostPolicy } | { ok: false; errors: SpecError[] };

const LIST_KINDS: Record<string, PatternKind> = { agents: 'name', tools: 'name', commands: 'command', paths: 'path' };

const KNOWN_KEYS: Record<string, readonly string[]> = {
  '': ['deny', 'cp_definitions', 'trusted_agent_keys', 'allow_executables', 'cp_commands', 'exempt_local_agents', 'pass_env', 'release_keys', 'suppress'],
  deny: ['agents', 'tools', 'commands', 'paths'],
  'deny.#.#': ['pattern', 'reason'],
  'trusted_agent_keys.#': ['key', 'name'],
  'suppress.#': ['agent', 'rule', 'match', 'reason', 'expires'],
  'suppress.#.match': ['resource', 'title', 'dedup_key', 'evidence'],
};

/**
 * Reads and validates the host policy file (SPEC §4.3). A missing file is an error only when `required`
 * (the operator named it); otherwise the empty policy applies. The file must be a regular file of at most
 * 1 MiB, not writable by others and owned by root or the daimon's user (`uid`, default this process's): the
 * host owner's word must be theirs.
 */
export async function loadHostPolicy(path: string, opts: { required: boolean; uid?: number; now?: number }): Promise<LoadPolicyResult> {
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
  return parsePolicy(text, path, opts.now);
}

/**
 * Parses the text of a policy file (YAML) into a `HostPolicy`; `source` names it in errors. `now` (default the clock)
 * bounds suppressions: an `expires` more than a year ahead is an error; one already past loads, and stops suppressing.
 */
export function parsePolicy(text: string, source: string, now: number = Date.now()): LoadPolicyResult {
  const parsed = parseYamlSpec(text, policyFileSchema, { source, notAMapping: 'the policy must be a mapping (deny:, cp_definitions:, allow_executables:, …)', knownKeys });
  if (!parsed.ok) return parsed;
  const policy: HostPolicy = { ...parsed.data, source };
  const errors: SpecError[] = [];
  for (const [list, kind] of Object.entries(LIST_KINDS)) {
    policy.deny[list as keyof HostPolicy['deny']].forEach((entry, i) => {
      const problem = patternError(entry.pattern, kind);
      if (!problem) return;
      const path = ['deny', list, i];
      // At the pattern itself, whether the entry is a plain pattern or { pattern, reason }.
      errors.push({ source, ...parsed.locate([...path, 'pattern']), field: path.join('.'), message: problem });
    });
  }
  (policy.trustedAgentKeys ?? []).forEach((entry, i) => {
    const problem = agentKeyError(entry.key);
    if (problem) errors.push({ source, ...parsed.locate(['trusted_agent_keys', i, 'key']), field: `trusted_agent_keys.${i}`, message: problem });
  });
  for (const entry of policy.suppress ?? []) {
    const path = ['suppress', entry.index];
    const where = parsed.locate(path);
    entry.at = `${source}:${where.line}`;
    for (const [key, pattern] of Object.entries({ agent: entry.agent, rule: entry.rule, ...prefixed(entry.match) })) {
      const problem = pattern === undefined ? undefined : patternError(pattern, 'name');
      if (problem) errors.push({ source, ...parsed.locate([...path, ...key.split('.')]), field: [...path, key].join('.'), message: problem });
    }
    if (entry.expires > now + SUPPRESS_MAX_AHEAD_MS) {
      errors.push({ source, ...parsed.locate([...path, 'expires']), field: `${path.join('.')}.expires`,
        message: `${entry.expiresText} is more than a year ahead: a suppression is looked at again at least once a year` });
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, policy };
}

/** `{ resource: x }` as `{ 'match.resource': x }`, to locate and name each field of a suppression's match. */
function prefixed(match: SuppressMatch): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(match).map(([k, v]) => [`match.${k}`, v]));
}

/** The keys allowed at `path` of a policy file. */
function knownKeys(path: SpecPath): readonly string[] {
  const shape = path.map((p) => (typeof p === 'number' ? '#' : p)).join('.').replace(/^deny\.\w+/, 'deny.#');
  return KNOWN_KEYS[shape] ?? [];
}
