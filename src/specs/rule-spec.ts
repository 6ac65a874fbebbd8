import { z } from 'zod';

/** Comparisons a rule's threshold can make between a capture and a value. */
export const THRESHOLD_OPS = ['>', '>=', '<', '<=', '==', '!=', 'in', 'not_in'] as const;
/** A threshold comparison. */
export type ThresholdOp = (typeof THRESHOLD_OPS)[number];

/**
 * What a rule compares a matching line against before it reports it:
 * - `always`: every matching line is reported;
 * - `last_run`: only lines absent from the collector's output of the previous run (the first run only records);
 * - `baseline`: with `key`, a line whose key was seen before with a different line (new keys join the baseline);
 *   without `key`, a line absent from the first output ever recorded. The baseline is kept in the state dir.
 */
export const NEW_SINCE = ['always', 'last_run', 'baseline'] as const;
/** A rule's novelty mode. */
export type NewSince = (typeof NEW_SINCE)[number];

/** The finding a rule emits, every field a template over the line's named captures, `line`, `host`, `collector` and `inputs`. */
export interface RuleFindingTemplate {
  severity: string;
  title: string;
  category: string;
  resource: string;
  dedup_key: string;
  /** Default `{{line}}`. */
  evidence: string;
  recommended_action?: string;
  tags: string[];
}

/** A deterministic check (SPEC §4, `rules:`): per-line regular expression over one collector's output, no LLM. */
export interface RuleSpec {
  name: string;
  /** The collector whose output the rule reads; must be one of the agent's collectors. */
  collector: string;
  /** A JavaScript regular expression source, applied to each line; named groups become template variables. */
  match: string;
  /** `i` for case-insensitive, else empty. */
  flags: string;
  /** Only lines whose capture passes the comparison; `value` is a template (e.g. `{{inputs.disk_full_pct}}`). `in`/`not_in` take a comma or whitespace separated list. */
  threshold?: { capture: string; op: ThresholdOp; value: string };
  newSince: NewSince;
  /** For `newSince: baseline`: the capture naming what a line is about (e.g. the path of a hashed file). */
  key?: string;
  /** At most this many findings per run from this rule (default 50), so one bad collector cannot flood the CP. */
  maxFindings: number;
  finding: RuleFindingTemplate;
}

const nonEmpty = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
const captureName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'expected a capture group name');

const findingTemplateSchema = z.strictObject({
  severity: nonEmpty(64),
  title: nonEmpty(512),
  category: nonEmpty(64).default('other'),
  resource: z.string().max(2048).default(''),
  dedup_key: z.string().max(1024).default(''),
  evidence: z.string().max(4096).default('{{line}}'),
  recommended_action: z.string().max(4096).optional(),
  tags: z.array(z.string().max(128)).max(64).default([]),
});

/** Validates one entry of `rules:` as written in the frontmatter. */
export const ruleSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/i, 'expected a rule name (letters, digits, _ -, at most 64)'),
    collector: nonEmpty(64),
    match: nonEmpty(4096),
    flags: z.enum(['', 'i'], { error: 'expected "i" or nothing' }).default(''),
    threshold: z
      .strictObject({
        capture: captureName,
        op: z.enum(THRESHOLD_OPS, { error: `expected one of ${THRESHOLD_OPS.join(' ')}` }),
        value: z.preprocess((v) => (typeof v === 'number' ? String(v) : Array.isArray(v) ? v.join(',') : v), nonEmpty(4096)),
      })
      .optional(),
    new_since: z.enum(NEW_SINCE, { error: `expected one of ${NEW_SINCE.join(', ')}` }).default('always'),
    key: captureName.optional(),
    max_findings: z.number().int('must be a whole number').min(1).max(1000).default(50),
    finding: findingTemplateSchema,
  }, { error: (iss) => (iss.code === 'invalid_type' ? 'expected a rule: a mapping of name, collector, match, finding…' : undefined) })
  .superRefine((r, ctx) => {
    let groups: Set<string>;
    try {
      groups = captureGroups(new RegExp(r.match, r.flags));
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['match'], message: `invalid regular expression: ${(err as Error).message}` });
      return;
    }
    if (r.threshold && !groups.has(r.threshold.capture)) {
      ctx.addIssue({ code: 'custom', path: ['threshold', 'capture'], message: `match has no named group (?<${r.threshold.capture}>…)` });
    }
    if (r.key !== undefined && !groups.has(r.key)) {
      ctx.addIssue({ code: 'custom', path: ['key'], message: `match has no named group (?<${r.key}>…)` });
    }
    if (r.key !== undefined && r.new_since !== 'baseline') {
      ctx.addIssue({ code: 'custom', path: ['key'], message: 'is only used with new_since: baseline' });
    }
  })
  .transform((r): RuleSpec => ({
    name: r.name,
    collector: r.collector,
    match: r.match,
    flags: r.flags,
    ...(r.threshold && { threshold: r.threshold }),
    newSince: r.new_since,
    ...(r.key !== undefined && { key: r.key }),
    maxFindings: r.max_findings,
    finding: r.finding,
  }));

/** Names of the named capture groups of a regular expression. */
export function captureGroups(re: RegExp): Set<string> {
  // An alternation with an empty branch matches '', which yields every group (undefined where unmatched).
  const probe = new RegExp(`${re.source}|`, re.flags.replace('g', '')).exec('');
  return new Set(Object.keys(probe?.groups ?? {}));
}
