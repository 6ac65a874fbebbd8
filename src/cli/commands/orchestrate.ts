import { Option } from 'commander';
import type { Command } from 'commander';
import { OkesuError } from '../../errors.js';
import type { OrchestrationRunView } from '../../protocol/orchestration-api.js';
import { action, exitWith } from '../context.js';
import type { CliContext } from '../context.js';
import type { OutputFormat } from '../output.js';
import { configOption, positiveIntArg, outputFormat, outputOption } from '../options.js';
import { checkOrchestrationFile, errorLines, okLine } from './orchestrate-files.js';
import { formatRunDetail, ORCHESTRATION_COLUMNS, ORCHESTRATION_RUN_COLUMNS } from './orchestrate-format.js';
import { registerOrchestrateRun } from './orchestrate-run.js';

interface JsonConfig { json?: boolean; config?: string }
interface DecisionOptions extends JsonConfig { reason?: string }

/** Registers `okesu orchestrate validate | apply | list | run | runs | show | approve | reject | cancel` (SPEC §6). */
export function registerOrchestrate(program: Command, ctx: CliContext): void {
  const orch = program
    .command('orchestrate')
    .description('orchestrations: YAML playbooks of agent steps across hosts (validate, apply, run, approve)')
    .addHelpText('after', '\nWriting one: docs/orchestrations.md. Examples: examples/c2-callback-triage.yaml, examples/fleet-ioc-sweep.yaml.');

  orch
    .command('validate <file...>')
    .description('check orchestration files here (no CP); prints file:line:column: field: problem for each error and exits 1 if any')
    .option('--json', 'print one result per file as JSON')
    .action(
      action(ctx, async (files: string[], opts: { json?: boolean }) => {
        const results = await Promise.all(files.map((file) => checkOrchestrationFile(file)));
        if (opts.json) {
          ctx.out.printJson(results.map((r) => (r.ok ? { file: r.file, ok: true, name: r.spec.name, steps: r.spec.steps.map((s) => s.id), errors: [] } : { file: r.file, ok: false, errors: r.errors })));
        } else {
          for (const r of results) for (const line of r.ok ? [okLine(r.file, r.spec)] : errorLines(r.errors)) ctx.out.printLine(line);
        }
        const bad = results.filter((r) => !r.ok).length;
        if (bad > 0) exitWith(1, `${bad} of ${results.length} orchestration files have errors`);
      }),
    );

  orch
    .command('apply <file>')
    .description('store an orchestration on the CP, or replace the stored one of the same name (checked here first)')
    .option('--json', 'print the stored OrchestrationView as JSON')
    .addOption(configOption())
    .action(
      action(ctx, async (file: string, opts: JsonConfig) => {
        const checked = await checkOrchestrationFile(file);
        if (!checked.ok) {
          for (const line of errorLines(checked.errors)) ctx.out.status(line);
          const n = checked.errors.length;
          throw new OkesuError('OKS_ERR_BAD_REQUEST', `${file} has ${n} error${n === 1 ? '' : 's'}; nothing was stored`);
        }
        const view = await ctx.connect(opts.config).client.applyOrchestration(checked.spec.name, checked.text);
        if (opts.json) ctx.out.printJson(view);
        else ctx.out.printTable([view], ORCHESTRATION_COLUMNS);
      }),
    );

  orch
    .command('list')
    .description('list the orchestrations stored on the CP')
    .option('--json', 'print the OrchestrationView array as JSON')
    .addOption(outputOption())
    .addOption(configOption())
    .action(
      action(ctx, async (opts: JsonConfig & { output?: OutputFormat }) => {
        const list = await ctx.connect(opts.config).client.listOrchestrations();
        ctx.out.printList(outputFormat(opts), list, ORCHESTRATION_COLUMNS, { empty: 'no orchestrations stored; store one with: okesu orchestrate apply FILE' });
      }),
    );

  registerOrchestrateRun(orch, ctx);

  orch
    .command('runs')
    .description('list orchestration runs, newest first')
    .addOption(new Option('--limit <n>', 'at most N runs').argParser(positiveIntArg))
    .option('--json', 'print the OrchestrationRunView array as JSON')
    .addOption(outputOption())
    .addOption(configOption())
    .action(
      action(ctx, async (opts: JsonConfig & { limit?: number; output?: OutputFormat }) => {
        const list = await ctx.connect(opts.config).client.listOrchestrationRuns(opts.limit === undefined ? {} : { limit: opts.limit });
        ctx.out.printList(outputFormat(opts), list, ORCHESTRATION_RUN_COLUMNS, { empty: 'no orchestration runs' });
      }),
    );

  orch
    .command('show <run>')
    .description('show one orchestration run: steps, per-host states, rendered prompts and results')
    .option('--json', 'print the OrchestrationRunView as JSON')
    .addOption(configOption())
    .action(
      action(ctx, async (runId: string, opts: JsonConfig) => {
        const run = await ctx.connect(opts.config).client.getOrchestrationRun(runId);
        if (opts.json) ctx.out.printJson(run);
        else for (const line of formatRunDetail(run)) ctx.out.printLine(line);
      }),
    );

  const decision = (name: 'approve' | 'reject', description: string, done: string): void => {
    orch
      .command(`${name} <run> <step>`)
      .description(description)
      .option('--reason <text>', 'why, kept in the audit log')
      .option('--json', 'print the OrchestrationRunView as JSON')
      .addOption(configOption())
      .action(
        action(ctx, async (runId: string, step: string, opts: DecisionOptions) => {
          const { client } = ctx.connect(opts.config);
          const run = name === 'approve' ? await client.approveStep(runId, step, opts.reason) : await client.rejectStep(runId, step, opts.reason);
          printDecision(ctx, run, `${done} step ${step} of run ${run.id}`, opts.json);
        }),
      );
  };
  decision('approve', 'approve a step waiting at its approval gate (operator): the run goes on with the prompt shown by show', 'approved');
  decision('reject', 'reject a step waiting at its approval gate (operator): the step fails and the run ends failed', 'rejected');

  orch
    .command('cancel <run>')
    .description('cancel an orchestration run (operator): its agent runs in flight are cancelled on the hosts too')
    .option('--reason <text>', 'why, kept in the audit log')
    .option('--json', 'print the OrchestrationRunView as JSON')
    .addOption(configOption())
    .action(
      action(ctx, async (runId: string, opts: DecisionOptions) => {
        const run = await ctx.connect(opts.config).client.cancelOrchestrationRun(runId, opts.reason);
        printDecision(ctx, run, `cancel sent for run ${run.id}`, opts.json);
      }),
    );
}

function printDecision(ctx: CliContext, run: OrchestrationRunView, what: string, json: boolean | undefined): void {
  if (json) ctx.out.printJson(run);
  else ctx.out.printLine(`${what}; the run is ${run.status}`);
}
