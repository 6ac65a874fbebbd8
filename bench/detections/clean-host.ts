import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SEVERITIES } from '../../src/protocol/finding.js';
import type { Severity } from '../../src/protocol/finding.js';
import { AGENTS_DIR, loadBuiltin, runAgentCli, sandbox } from '../../test/agents/sandbox.js';
import type { CliEvent } from '../../test/agents/sandbox.js';
import { pool } from './run-cases.js';

/** One kind of finding a clean host made: agent, rule, severity and title, and how often over both runs. */
export interface CleanHostFinding {
  agent: string;
  rule: string;
  severity: Severity;
  title: string;
  count: number;
}

/** What the built-in agents report on this machine with their default inputs. */
export interface CleanHostResult {
  agents: string[];
  /** Findings of both runs of every agent, by severity. */
  bySeverity: Record<Severity, number>;
  /** Every distinct (agent, rule, severity, title), most severe first. */
  findings: CleanHostFinding[];
  /** Agents whose run did not complete, with why. */
  failures: string[];
  /** What the clean-host policy's `suppress:` entries dropped (from the runs' `findings_suppressed` events). */
  suppressed: SuppressedCount[];
}

/** Findings one suppress entry dropped over the clean-host run. */
export interface SuppressedCount {
  at: string;
  agent: string;
  rule?: string;
  reason: string;
  count: number;
}

/** The built-in agents that have deterministic rules (`rules:` in `agents/*.md`). */
export function agentsWithRules(dir = AGENTS_DIR): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.md')).map((f) => f.slice(0, -3)).sort().filter((name) => loadBuiltin(name).rules.length > 0);
}

/**
 * Runs each agent twice with default inputs, no model key and an empty host policy, through `okesu agents run NAME
 * --local --json`, on this machine: the first run of a rule that reports news against a baseline only records it, so
 * the second shows what a monitor reports from then on. Both runs count.
 */
export async function runCleanHost(agents: readonly string[], jobs: number, log: (line: string) => void, policy?: string): Promise<CleanHostResult> {
  const runs = await pool(agents, jobs, async (agent) => {
    const box = sandbox(`okesu-clean-${agent}-`);
    try {
      const state = join(box.dir, 'state');
      const found: CliEvent[] = [];
      const reports: CliEvent[] = [];
      const failures: string[] = [];
      for (const pass of [1, 2]) {
        const r = await runAgentCli(agent, {}, state, policy ?? box.policy);
        if (r.code !== 0) failures.push(`${agent} (run ${pass}) exited ${r.code}: ${r.stderr.trim().split('\n').at(-1) ?? ''}`);
        found.push(...r.findings);
        reports.push(...r.events.filter((e) => e.type === 'findings_suppressed'));
      }
      log(`${agent}: ${found.length} finding(s) over two runs`);
      return { agent, found, failures, reports };
    } finally {
      box.cleanup();
    }
  });
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  const kinds = new Map<string, CleanHostFinding>();
  for (const { agent, found } of runs) {
    for (const f of found) {
      const severity = String(f.severity).toUpperCase() as Severity;
      bySeverity[severity] = (bySeverity[severity] ?? 0) + 1;
      const rule = String((f.attributes as { rule?: unknown } | undefined)?.rule ?? '(model)');
      const title = String(f.title);
      const key = [agent, rule, severity, title].join('\0');
      const kind = kinds.get(key) ?? { agent, rule, severity, title, count: 0 };
      kind.count++;
      kinds.set(key, kind);
    }
  }
  const rank = (s: Severity): number => SEVERITIES.indexOf(s);
  return {
    agents: [...agents],
    bySeverity,
    findings: [...kinds.values()].sort((a, b) => rank(a.severity) - rank(b.severity) || a.agent.localeCompare(b.agent) || a.rule.localeCompare(b.rule)),
    failures: runs.flatMap((r) => r.failures),
    suppressed: suppressedCounts(runs.flatMap((r) => r.reports)),
  };
}

/** The `by` entries of `findings_suppressed` events, summed per entry. */
function suppressedCounts(reports: readonly CliEvent[]): SuppressedCount[] {
  const byEntry = new Map<string, SuppressedCount>();
  for (const report of reports) {
    for (const b of (Array.isArray(report.by) ? report.by : []) as Record<string, unknown>[]) {
      const at = String(b.at);
      const entry = byEntry.get(at) ?? { at, agent: String(b.agent), ...(typeof b.rule === 'string' && { rule: b.rule }), reason: String(b.reason), count: 0 };
      entry.count += Number(b.count) || 0;
      byEntry.set(at, entry);
    }
  }
  return [...byEntry.values()];
}
