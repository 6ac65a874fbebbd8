import { mkdirSync } from 'node:fs';
import type * as Vitest from 'vitest';
import { join } from 'node:path';
import type { CliEvent, CliRun, Inputs } from '../agents/sandbox.js';
import { runAgentCli, sandbox } from '../agents/sandbox.js';

/**
 * One planted attacker technique and its clean counterpart, for one built-in rule (issue 18).
 *
 * The same cases drive the tests (`test/detections/*.test.ts`) and `npm run detections`, which counts planted cases
 * caught and clean counterparts quiet and prints the ATT&CK coverage table of docs/detections.md.
 *
 * A case plants in a sandbox it owns — a temp dir handed to the agent through its inputs, a child process it starts,
 * a loopback socket — never in the real /etc or /home. Rules that compare with earlier runs (`new_since: last_run` or
 * `baseline`) get a first run on the untouched sandbox before `plant` or `benign`.
 */
export interface DetectionCase {
  /** Unique, kebab-case: `edr-reverse-shell-bash`. */
  id: string;
  /** MITRE ATT&CK technique ids this case plants, e.g. `['T1059.004']` (sub-technique where one fits). */
  techniques: string[];
  /** The built-in agent (file name without `.md`) and the rule of it that must fire. */
  agent: string;
  rule: string;
  /** One line: what is planted, e.g. "bash whose stdin and stdout are a TCP socket (a reverse shell)". */
  planted: string;
  /** One line: the clean counterpart that must not fire, e.g. "bash reading a pipe". */
  clean: string;
  /** Prepares a fresh sandbox directory; resolves with the agent's inputs and the steps of the case. */
  setup(dir: string): Promise<CaseSandbox>;
}

/** What a case set up: inputs for every run of the agent, then the planted and the clean step. */
export interface CaseSandbox {
  inputs: Inputs;
  /** True when the rule reports only news against an earlier run: the runner runs the agent once before `plant`/`benign`. */
  needsBaseline?: boolean;
  /** Plants the technique (a file written, a process started…) after any baseline run. */
  plant(): Promise<void>;
  /** Makes the clean counterpart instead (a benign change of the same kind); must leave the rule silent. */
  benign(): Promise<void>;
  /** Stops whatever the case started (children, sockets). The directory is removed by the runner. */
  cleanup(): Promise<void>;
  /** Optional extra check of the planted run's findings of this rule (e.g. one group for three pids). */
  check?(findings: CliEvent[]): void;
}

/** The outcome of one side of a case. */
export interface CaseOutcome {
  /** Findings of the case's rule in the measured run. */
  findings: CliEvent[];
  run: CliRun;
}

/** Findings made by `rule`. */
export const findingsOfRule = (run: CliRun, rule: string): CliEvent[] =>
  run.findings.filter((f) => (f.attributes as { rule?: string } | undefined)?.rule === rule);

/**
 * Runs one side of a case end to end through `okesu agents run AGENT --local --json` (the built CLI, no model key):
 * a fresh sandbox, `setup`, a baseline run when asked for, then `plant` (side `planted`) or `benign` (side `clean`),
 * the measured run, `cleanup`. Throws when the CLI fails; judging the findings is the caller's.
 */
export async function runCase(c: DetectionCase, side: 'planted' | 'clean'): Promise<CaseOutcome> {
  const box = sandbox(`okesu-det-${c.id}-`);
  const dir = join(box.dir, 'case');
  mkdirSync(dir);
  const state = join(box.dir, 'state');
  let env: CaseSandbox | undefined;
  try {
    env = await c.setup(dir);
    if (env.needsBaseline) await expectOk(await runAgentCli(c.agent, env.inputs, state, box.policy), c, 'baseline');
    await (side === 'planted' ? env.plant() : env.benign());
    const run = await runAgentCli(c.agent, env.inputs, state, box.policy);
    await expectOk(run, c, side);
    const findings = findingsOfRule(run, c.rule);
    if (side === 'planted' && findings.length > 0) env.check?.(findings);
    return { findings, run };
  } finally {
    await env?.cleanup();
    box.cleanup();
  }
}

async function expectOk(run: CliRun, c: DetectionCase, phase: string): Promise<void> {
  if (run.code !== 0) throw new Error(`${c.id} (${phase}): okesu agents run ${c.agent} exited ${run.code}: ${run.stderr.slice(0, 2000)}`);
}

/**
 * The tests of a case file: per case, the planted side makes at least one finding of the rule and the clean side none.
 * Each `test/detections/AGENT.test.ts` calls it with its file's cases (`test/detections/cases/AGENT.ts`, which exports
 * `cases: DetectionCase[]`; `npm run detections` loads every file of that folder).
 */
export function describeCases(title: string, cases: readonly DetectionCase[], vitest: typeof Vitest): void {
  const { describe, expect, it } = vitest;
  describe(title, () => {
    for (const c of cases) {
      it(`${c.id}: ${c.agent}/${c.rule} reports ${c.planted}`, async () => {
        const out = await runCase(c, 'planted');
        expect(out.findings.length, `no ${c.rule} finding; findings: ${JSON.stringify(out.run.findings.map((f) => f.title))}`).toBeGreaterThan(0);
      }, 60_000);
      it(`${c.id}: ${c.agent}/${c.rule} stays quiet on ${c.clean}`, async () => {
        const out = await runCase(c, 'clean');
        expect(out.findings.map((f) => f.evidence)).toEqual([]);
      }, 60_000);
    }
  });
}
