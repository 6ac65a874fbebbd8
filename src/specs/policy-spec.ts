import { z } from 'zod';

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
    /** Commands never run here: bash tool calls, collector commands and custom provider commands. */
    commands: PolicyPattern[];
    /** Paths never read or listed here (read_file, list_files, search). */
    paths: PolicyPattern[];
  };
  /** Accept agent definitions sent by the CP for agents this host does not have on disk (default true). */
  cpDefinitions: boolean;
  /** Variables of the daimon's environment an agent may receive when its `env:` asks for them (default none). */
  passEnv: string[];
}

/** The default host policy file (SPEC §4.3). */
export const DEFAULT_POLICY_PATH = '/etc/okesu/policy.yaml';

/** The policy of a host with no policy file: nothing denied beyond the agent files' own rules. */
export const EMPTY_POLICY: HostPolicy = { source: '<none>', deny: { agents: [], tools: [], commands: [], paths: [] }, cpDefinitions: true, passEnv: [] };

const patternSchema = z.union(
  [
    z.string().trim().min(1, 'must not be empty').max(4096).transform((pattern): PolicyPattern => ({ pattern })),
    z.strictObject({ pattern: z.string().trim().min(1, 'must not be empty').max(4096), reason: z.string().max(1024).optional() }),
  ],
  { error: 'expected a pattern, or { pattern, reason }' },
);
const patternList = z.array(patternSchema).max(4096).default([]);

/** Validates the parsed YAML of a policy file; unknown fields are errors so a typo cannot silently allow something. */
export const policyFileSchema = z
  .strictObject({
    deny: z
      .strictObject({ agents: patternList, tools: patternList, commands: patternList, paths: patternList })
      .default({ agents: [], tools: [], commands: [], paths: [] }),
    cp_definitions: z.boolean().default(true),
    pass_env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'expected an environment variable name (letters, digits, _)')).max(256).default([]),
  })
  .transform((p): Omit<HostPolicy, 'source'> => ({ deny: p.deny, cpDefinitions: p.cp_definitions, passEnv: p.pass_env }));
