import type { Command } from 'commander';
import { OkesuError } from '../../errors.js';
import type { OrchestrationRunView } from '../../protocol/orchestration-api.js';
import type { StartOrchestrationInput } from '../../transport/operator-client.js';
import { action, exitWith } from '../context.js';
import { exitCodeOfRuns } from '../exit-codes.js';
import type { CliContext } from '../context.js';
import { collectInput, configOption } from '../options.js';
import { checkOrchestrationFile, errorLines, resolveRunSource } from './orchestrate-files.js';
import { followOrchestration } from './orchestrate-follow.js';
import type { FollowOptions } from './orchestrate-follow.js';
import { runEndLine, transitionLines } from './orchestrate-format.js';

interface RunOptions {
  input?: Record<string, unknown>;
  wait?: boolean;
  json?: boolean;
  config?: string;
}

/** The body of `POST /v1/orchestration-runs` for a NAME or FILE argument; a file is checked here first (spec and inputs). */
export async function startRequest(ctx: CliContext, arg: string, inputs: Record<string, unknown>): Promise<StartOrchestrationInput> {
  const source = await resolveRunSource(arg);
  if (source.kind === 'name') return { name: source.name, inputs };
  const checked = await checkOrchestrationFile(source.file);
  if (!checked.ok) {
    for (const line of errorLines(checked.errors)) ctx.out.status(line);
    const n = checked.errors.length;
    throw new OkesuError('OKS_ERR_BAD_REQUEST', `${source.file} has ${n} error${n === 1 ? '' : 's'}; no run was started`);
  }
  const { resolveTrigger } = await import('../../specs/orchestration/resolve-trigger.js');
  const trigger = resolveTrigger(checked.spec, inputs);
  if (!trigger.ok) throw new OkesuError('OKS_ERR_BAD_REQUEST', `--input: ${trigger.error}`);
  return { spec: checked.text, inputs };
}

/** Prints the approval hint once per step that waits for one. */
function approvalNotices(ctx: CliContext): (run: OrchestrationRunView) => void {
  const told = new Set<string>();
  return (run) => {
    for (const step of run.steps) {
      if (step.status !== 'waiting_approval' || told.has(step.id)) continue;
      told.add(step.id);
      ctx.out.status(
        `okesu: run ${run.id} waits for approval of step ${step.id}; still waiting. Approve: okesu orchestrate approve ${run.id} ${step.id}` +
          ` — or reject: okesu orchestrate reject ${run.id} ${step.id} --reason TEXT`,
      );
    }
  };
}

/** Registers `okesu orchestrate run NAME|FILE [--input k=v]... [--wait] [--json]`. */
export function registerOrchestrateRun(parent: Command, ctx: CliContext, follow: FollowOptions = {}): void {
  parent
    .command('run')
    .description('start an orchestration run: a stored one by name, or a local .yaml file sent with the run (not stored)')
    .argument('<orchestration>', 'stored orchestration name, or path to a .yaml file')
    .option('--input <key=value>', 'a trigger input (repeatable): {{trigger.KEY}}; the value is JSON when it parses, else a string', collectInput)
    .option('--wait', 'follow the run, printing each step transition; exit 0 only if it completes, 3 if it failed, 5 if cancelled (keeps waiting through approvals)')
    .option('--json', 'print the OrchestrationRunView as JSON (with --wait: the final one)')
    .addOption(configOption())
    .addHelpText(
      'after',
      [
        '',
        'Without --wait, prints the run id. With --wait, a run stopped at an approval gate keeps',
        'the command waiting until someone approves, rejects or cancels it (another terminal:',
        'okesu orchestrate approve RUN STEP).',
        '',
        'Examples:',
        '  okesu orchestrate run c2-callback-triage --input host=web-01 --input pid=4242 --wait',
        '  okesu orchestrate run ./examples/fleet-ioc-sweep.yaml --input ioc=203.0.113.7 --input selector=label:env=prod',
      ].join('\n'),
    )
    .action(
      action(ctx, async (arg: string, opts: RunOptions) => {
        const request = await startRequest(ctx, arg, opts.input ?? {});
        const conn = ctx.connect(opts.config);
        if (!opts.wait) {
          const run = await conn.client.startOrchestration(request);
          if (opts.json) ctx.out.printJson(run);
          else {
            ctx.out.printLine(run.id);
            ctx.out.status(`okesu: orchestration run ${run.id} of ${run.name} started (${run.status}); follow it with: okesu orchestrate show ${run.id}`);
          }
          return;
        }
        const notify = approvalNotices(ctx);
        const print = (line: string): void => (opts.json ? ctx.out.status(line) : ctx.out.printLine(line));
        const final = await followOrchestration(
          ctx,
          conn,
          async () => {
            const run = await conn.client.startOrchestration(request);
            ctx.out.status(`okesu: orchestration run ${run.id} of ${run.name} started`);
            return run;
          },
          (view, prev) => {
            for (const line of transitionLines(prev, view)) print(line);
            notify(view);
          },
          follow,
        );
        if (opts.json) ctx.out.printJson(final);
        ctx.out.status(`okesu: ${runEndLine(final)}`);
        if (final.status !== 'completed') exitWith(exitCodeOfRuns([final.status]), `orchestration run ${final.id} ${final.status}`);
      }),
    );
}
