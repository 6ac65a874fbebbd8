import { z } from 'zod';
import type { AgentKey } from './agent-key.js';
import { releasePublicKeySchema } from '../protocol/release.js';
import { parseExpiry } from './suppress.js';
import type { SuppressEntry } from './suppress.js';

/** One deny entry of the host policy: a glob (`*`, `?`, and `**` across `/` for paths) or `/regex/`, with an optional reason. */
export interface PolicyPattern {
  pattern: string;
  reason?: string;
}

/**
 * The host's policy file (SPEC §4.3, default `/etc/okesu/policy.yaml`): what this host refuses whatever the agent
 * file or the CP says. The host owner's word beats both.
 */
export interface HostPolicy {
  /** Where it was read from, or `<none>` when no file exists. */
  source: string;
  deny: {
    /** Agent names never run here (dispatched or ticked). */
    agents: PolicyPattern[];
    /** Tools never offered to a model here. */
    tools: PolicyPattern[];
    /**
     * Commands never run here: bash tool calls, collector commands and custom provider commands. A tripwire, not a
     * boundary: globs over command text miss `c''url`, `/usr/bin/curl`, `env curl`; `allowExecutables` is the boundary.
     */
    commands: PolicyPattern[];
    /** Paths never read or listed here (read_file, list_files, search). */
    paths: PolicyPattern[];
  };
  /**
   * Agent definitions sent by the CP for agents this host does not have on disk: accepted (true, the default),
   * refused (false), or accepted only when signed by one of `trustedAgentKeys` (`signed`).
   */
  cpDefinitions: boolean | 'signed';
  /** Public keys whose signature makes a CP-sent definition acceptable under `cp_definitions: signed`. */
  trustedAgentKeys?: AgentKey[];
  /**
   * When set, the only executables a command may start (absolute paths, compared after symlinks are resolved), and
   * only commands that are a plain word list for the shell (no quoting, expansion, redirection or chaining) run.
   */
  allowExecutables?: string[];
  /** True: collectors and custom commands of agents read from this host's disk are exempt from `allowExecutables`. */
  exemptLocalAgents?: boolean;
  /** False: a definition sent by the CP may run no command (no collectors, no bash tool, no custom command). Default true. */
  cpCommands?: boolean;
  /** Variables of the daimon's environment an agent may receive when its `env:` asks for them (default none). */
  passEnv: string[];
  /** Release public keys upgrades must be signed by (`ed25519:…`); when set they replace the keys the CP gave at registration (issue 15). */
  releaseKeys?: string[];
  /**
   * Findings this host drops before they are spooled (`suppress:`): known-good exceptions, each with a reason and an
   * expiry. Absent: none.
   */
  suppress?: SuppressEntry[];
}

/** The default host policy file (SPEC §4.3). */
export const DEFAULT_POLICY_PATH = '/etc/okesu/policy.yaml';

/** The policy of a host with no policy file: nothing denied beyond the agent files' own rules. */
export const EMPTY_POLICY: HostPolicy = { source: '<none>', deny: { agents: [], tools: [], commands: [], paths: [] }, cpDefinitions: true,
  trustedAgentKeys: [], cpCommands: true, passEnv: [],
};

const patternSchema = z.union(
  [
    z.string().trim().min(1, 'must not be empty').max(4096).transform((pattern): PolicyPattern => ({ pattern })),
    z.strictObject({ pattern: z.string().trim().min(1, 'must not be empty').max(4096), reason: z.string().max(1024).optional() }),
  ],
  { error: 'expected a pattern, or { pattern, reason }' },
);
const patternList = z.array(patternSchema).max(4096).default([]);

// Key texts are checked after parsing (agentKeyError), so each error names the key rather than the union.
const agentKeyText = z.string().trim().max(256);
const agentKeySchema = z.union(
  [
    agentKeyText.transform((key): AgentKey => ({ key })),
    z.strictObject({ key: agentKeyText, name: z.string().trim().min(1).max(128).optional() }),
  ],
  { error: 'expected ed25519:<base64>, or { key, name }' },
);
const executablePath = z
  .string()
  .trim()
  .max(4096)
  .refine((p) => p.startsWith('/') && !/[\0\n]/.test(p), 'expected an absolute path of an executable, such as /usr/bin/ps');

const matchText = z.string().trim().min(1, 'must not be empty').max(4096);
const required = (what: string) => (issue: { input: unknown }): string => (issue.input === undefined ? `is required: ${what}` : 'expected a string');
const suppressSchema = z
  .strictObject({
    agent: z.string({ error: required('the agent name (or a glob of names)') }).trim().min(1, 'must not be empty').max(128),
    rule: z.string().trim().min(1, 'must not be empty').max(128).optional(),
    match: z.strictObject({ resource: matchText.optional(), title: matchText.optional(), dedup_key: matchText.optional(), evidence: matchText.optional() }).optional(),
    reason: z.string({ error: required('say why these findings are expected on this host') }).trim().min(1, 'must say why these findings are expected on this host').max(1024),
    expires: z.unknown().transform((v, ctx) => {
      const ms = parseExpiry(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: v === undefined ? 'is required: a date (YYYY-MM-DD) after which the entry no longer suppresses' : 'expected a date YYYY-MM-DD (or an ISO 8601 time with its zone)' });
        return z.NEVER;
      }
      return { ms, text: v instanceof Date ? v.toISOString() : String(v).trim() };
    }),
  })
  .superRefine((e, ctx) => {
    if (e.rule === undefined && (e.match === undefined || Object.keys(e.match).length === 0)) {
      ctx.addIssue({ code: 'custom', path: ['match'], message: 'name a rule or a match (resource, title, dedup_key, evidence); to drop every finding of an agent, deny the agent' });
    }
  });

/** Validates the parsed YAML of a policy file; unknown fields are errors so a typo cannot silently allow something. */
export const policyFileSchema = z
  .strictObject({
    deny: z
      .strictObject({ agents: patternList, tools: patternList, commands: patternList, paths: patternList })
      .default({ agents: [], tools: [], commands: [], paths: [] }),
    cp_definitions: z.union([z.boolean(), z.literal('signed')], { error: 'expected true, false or signed' }).default(true),
    trusted_agent_keys: z.array(agentKeySchema).max(256).default([]),
    allow_executables: z.array(executablePath).max(4096).optional(),
    cp_commands: z.boolean().default(true),
    exempt_local_agents: z.boolean().default(false),
    pass_env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'expected an environment variable name (letters, digits, _)')).max(256).default([]),
    release_keys: z.array(releasePublicKeySchema).max(16).optional(),
    suppress: z.array(suppressSchema).max(4096).optional(),
  })
  .superRefine((p, ctx) => {
    if (p.exempt_local_agents && !p.allow_executables) {
      ctx.addIssue({ code: 'custom', path: ['exempt_local_agents'], message: 'exempt_local_agents only qualifies allow_executables, which is not set' });
    }
    if (p.cp_definitions === 'signed' && p.trusted_agent_keys.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['cp_definitions'], message: 'signed needs at least one key under trusted_agent_keys' });
    }
  })
  .transform((p): Omit<HostPolicy, 'source'> => ({
    deny: p.deny, cpDefinitions: p.cp_definitions, trustedAgentKeys: p.trusted_agent_keys, cpCommands: p.cp_commands, passEnv: p.pass_env,
    ...(p.allow_executables && { allowExecutables: p.allow_executables, exemptLocalAgents: p.exempt_local_agents }),
    ...(p.release_keys && { releaseKeys: p.release_keys }),
    ...(p.suppress && {
      // `at` is filled in by the loader, which knows the file's lines.
      suppress: p.suppress.map((e, index): SuppressEntry => ({
        index, at: '', agent: e.agent, ...(e.rule !== undefined && { rule: e.rule }), match: e.match ?? {}, reason: e.reason,
        expires: e.expires.ms, expiresText: e.expires.text,
      })),
    }),
  }));
