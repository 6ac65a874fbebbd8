import { hash } from 'node:crypto';
import type { EventBody } from '../../src/protocol/event.js';
import { describeIssues } from '../../src/protocol/event.js';
import { findingFieldsSchema } from '../../src/protocol/finding.js';
import { parseDecimal } from '../../src/specs/input-values.js';
import type { RuleSpec } from '../../src/specs/rule-spec.js';
import { renderTemplate } from '../../src/specs/template.js';
import type { CollectorOutput } from '../provider.js';

/** What one rule remembers between runs: hashes of lines (and of baseline keys), never the lines themselves. */
export interface RuleState {
  /** Hash of the rule's definition (collector, match, flags, threshold, new_since, key): a changed rule starts afresh. */
  signature: string;
  /** `last_run`: the matching lines of the previous run; `baseline` without key: the baseline lines. */
  lines?: string[];
  /** `baseline` with key: key hash → hash of the baseline line for that key. */
  keys?: Record<string, string>;
}

/** The state of an agent's rules, JSON-serializable, keyed by rule name. */
export interface RulesState {
  version: 1;
  rules: Record<string, RuleState>;
}

/** What rule templates may use besides a line's named captures. */
export interface RulesScope {
  host: string;
  agent: string;
  inputs: Record<string, unknown>;
}

/** The outcome of one evaluation: findings to emit, the next state, and what went wrong (one line each, for the log). */
export interface RulesResult {
  findings: EventBody[];
  state: RulesState;
  problems: string[];
}

/** Most hashes remembered per rule; matching lines (or new keys) beyond it are not remembered and a problem says so. */
export const MAX_RULE_STATE_ENTRIES = 100_000;
/** Longest evidence line kept in a finding (the finding schema's limit per evidence entry). */
const MAX_EVIDENCE_CHARS = 16 * 1024;
const MAX_TITLE_CHARS = 120;

/** A state with no rule remembered. */
export function emptyRulesState(): RulesState {
  return { version: 1, rules: {} };
}

/** Short stable hash (sha256, 16 bytes as hex) of a line or key. */
export function lineHash(text: string): string {
  return hash('sha256', text, 'hex').slice(0, 32);
}

/** Hash of the parts of a rule that give its state meaning. */
export function ruleSignature(rule: RuleSpec): string {
  return lineHash(JSON.stringify([rule.collector, rule.match, rule.flags, rule.threshold ?? null, rule.newSince, rule.key ?? null]));
}

interface Match {
  line: string;
  groups: Record<string, string | undefined>;
}

/**
 * Runs deterministic rules over collector outputs (pure: no clock, no IO). A rule whose collector failed, was
 * skipped or is absent does nothing and keeps its state, so a failed run never resets a baseline. Captured text is
 * attacker-controlled: it only ever lands in string fields of a finding, and is never expanded as a template.
 */
export function evaluateRules(rules: RuleSpec[], outputs: CollectorOutput[], state: RulesState, scope: RulesScope): RulesResult {
  const findings: EventBody[] = [];
  const problems: string[] = [];
  const next: RulesState = { version: 1, rules: Object.create(null) as RulesState['rules'] };
  // State of rules no longer defined is dropped; every defined rule either keeps or replaces its entry.
  for (const rule of rules) {
    const previous = Object.hasOwn(state.rules, rule.name) ? state.rules[rule.name] : undefined;
    const say = (problem: string): void => {
      const line = `rule ${rule.name}: ${problem}`;
      if (!problems.includes(line)) problems.push(line);
    };
    const output = outputs.find((o) => o.name === rule.collector);
    const keep = (): void => {
      if (previous) next.rules[rule.name] = previous;
    };
    if (!output) {
      say(`no output of collector ${rule.collector}`);
      keep();
      continue;
    }
    if (output.skipped || output.error !== undefined) {
      keep();
      continue;
    }
    let re: RegExp;
    try {
      re = new RegExp(rule.match, rule.flags.replace(/[gy]/g, ''));
    } catch (err) {
      say(`invalid regular expression: ${(err as Error).message}`);
      keep();
      continue;
    }
    if (output.truncated) say(`output of collector ${rule.collector} was truncated; lines past the cap were not checked`);

    const matches = matchLines(rule, re, output.output, scope, say);
    const signature = ruleSignature(rule);
    const prior = previous?.signature === signature ? previous : undefined;
    const { report, remembered } = selectNew(rule, matches, prior, say);
    next.rules[rule.name] = { signature, ...remembered };

    let emitted = 0;
    for (const [i, match] of report.entries()) {
      if (emitted >= rule.maxFindings) {
        say(`${report.length - i} more findings not reported (max_findings ${rule.maxFindings})`);
        break;
      }
      const finding = renderFinding(rule, match, scope, say);
      if (finding) {
        findings.push(finding);
        emitted++;
      }
    }
  }
  return { findings, state: next, problems };
}

/** Longest part of one line a rule's expression sees: host text must not make a badly written expression run for long. */
export const MAX_RULE_LINE_CHARS = 8192;

/** Lines of the output that match the rule and pass its threshold. */
function matchLines(rule: RuleSpec, re: RegExp, output: string, scope: RulesScope, say: (p: string) => void): Match[] {
  const lines = output.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const matches: Match[] = [];
  for (const raw of lines) {
    const whole = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const line = whole.length > MAX_RULE_LINE_CHARS ? whole.slice(0, MAX_RULE_LINE_CHARS) : whole;
    const m = re.exec(line);
    if (!m) continue;
    const groups: Record<string, string | undefined> = { ...m.groups };
    if (rule.threshold && !passes(rule.threshold, groups, templateScope(rule, line, groups, scope), say)) continue;
    matches.push({ line, groups });
  }
  return matches;
}

/** The variables of a rule's templates for one line; the platform's names win over captures of the same name. */
function templateScope(rule: RuleSpec, line: string, groups: Record<string, string | undefined>, scope: RulesScope): Record<string, unknown> {
  return { ...groups, line, host: scope.host, agent: scope.agent, collector: rule.collector, inputs: scope.inputs };
}

function passes(threshold: NonNullable<RuleSpec['threshold']>, groups: Record<string, string | undefined>, vars: Record<string, unknown>, say: (p: string) => void): boolean {
  const captured = groups[threshold.capture];
  if (captured === undefined) return false; // the group took no part in this match
  const value = renderTemplate(threshold.value, vars);
  const { op } = threshold;
  if (op === 'in' || op === 'not_in') {
    const listed = value.split(/[\s,]+/).filter((v) => v !== '').includes(captured);
    return op === 'in' ? listed : !listed;
  }
  const a = parseDecimal(captured);
  const b = parseDecimal(value);
  if (op === '==' || op === '!=') {
    const equal = a !== undefined && b !== undefined ? a === b : captured === value;
    return op === '==' ? equal : !equal;
  }
  if (a === undefined || b === undefined) {
    say(`threshold ${threshold.capture} ${op} ${JSON.stringify(value)}: not a number on ${a === undefined ? 'the captured' : 'the value'} side; such lines do not pass`);
    return false;
  }
  switch (op) {
    case '>': return a > b;
    case '>=': return a >= b;
    case '<': return a < b;
    case '<=': return a <= b;
  }
}

/** Applies `new_since`: which matches to report, and what to remember for the next run. */
function selectNew(rule: RuleSpec, matches: Match[], prior: RuleState | undefined, say: (p: string) => void): { report: Match[]; remembered: Omit<RuleState, 'signature'> } {
  switch (rule.newSince) {
    case 'always':
      return { report: matches, remembered: {} };
    case 'last_run': {
      const current = distinctHashes(matches);
      const before = prior?.lines ? new Set(prior.lines) : undefined;
      const report = before ? distinct(matches).filter((m) => !before.has(lineHash(m.line))) : [];
      return { report, remembered: { lines: capLines(current, say) } };
    }
    case 'baseline':
      return rule.key === undefined ? baselineLines(matches, prior, say) : baselineKeys(rule.key, matches, prior, say);
  }
}

function baselineLines(matches: Match[], prior: RuleState | undefined, say: (p: string) => void): { report: Match[]; remembered: Omit<RuleState, 'signature'> } {
  if (!prior?.lines) return { report: [], remembered: { lines: capLines(distinctHashes(matches), say) } };
  const baseline = new Set(prior.lines);
  return { report: distinct(matches).filter((m) => !baseline.has(lineHash(m.line))), remembered: { lines: prior.lines } };
}

function baselineKeys(key: string, matches: Match[], prior: RuleState | undefined, say: (p: string) => void): { report: Match[]; remembered: Omit<RuleState, 'signature'> } {
  const keys = new Map<string, string>(Object.entries(prior?.keys ?? {}));
  const report: Match[] = [];
  const reported = new Set<string>();
  let dropped = 0;
  for (const match of matches) {
    const value = match.groups[key];
    if (value === undefined) {
      say(`a matching line has no capture ${key}; it is not compared with the baseline`);
      continue;
    }
    const k = lineHash(value);
    const h = lineHash(match.line);
    const known = keys.get(k);
    if (known === undefined) {
      if (keys.size < MAX_RULE_STATE_ENTRIES) keys.set(k, h);
      else dropped++;
    } else if (known !== h && !reported.has(h)) {
      reported.add(h);
      report.push(match);
    }
  }
  if (dropped > 0) say(`baseline is full (${MAX_RULE_STATE_ENTRIES} keys): ${dropped} new keys were not added and are not watched`);
  return { report, remembered: { keys: Object.fromEntries(keys) } };
}

function distinct(matches: Match[]): Match[] {
  const seen = new Set<string>();
  return matches.filter((m) => (seen.has(m.line) ? false : (seen.add(m.line), true)));
}

function distinctHashes(matches: Match[]): string[] {
  return [...new Set(matches.map((m) => lineHash(m.line)))];
}

function capLines(hashes: string[], say: (p: string) => void): string[] {
  if (hashes.length <= MAX_RULE_STATE_ENTRIES) return hashes;
  say(`${hashes.length} distinct matching lines; only the first ${MAX_RULE_STATE_ENTRIES} are remembered`);
  return hashes.slice(0, MAX_RULE_STATE_ENTRIES);
}

function cut(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : chars.slice(0, max).join('');
}

/** Renders a rule's finding for one line and validates it; undefined (and a problem naming the field) when invalid. */
function renderFinding(rule: RuleSpec, match: Match, scope: RulesScope, say: (p: string) => void): EventBody | undefined {
  const vars = templateScope(rule, match.line, match.groups, scope);
  const render = (template: string): string => renderTemplate(template, vars);
  const t = rule.finding;
  const fields = {
    severity: render(t.severity),
    title: cut(render(t.title).trim(), MAX_TITLE_CHARS),
    category: render(t.category),
    resource: render(t.resource),
    dedup_key: render(t.dedup_key),
    evidence: [cut(render(t.evidence), MAX_EVIDENCE_CHARS)],
    ...(t.recommended_action !== undefined && { recommended_action: render(t.recommended_action) }),
    tags: t.tags.map(render).filter((tag) => tag !== ''),
    attributes: { rule: rule.name, collector: rule.collector },
  };
  const parsed = findingFieldsSchema.safeParse(fields);
  if (!parsed.success) {
    say(`dropped a finding: ${describeIssues(parsed.error)}`);
    return undefined;
  }
  return { type: 'finding', ...parsed.data };
}
