import { Option } from 'commander';
import type { Command } from 'commander';
import { versionSchema } from '../../protocol/release.js';
import type { RolloutView } from '../../protocol/rollout.js';
import type { CreateRolloutInput } from '../../transport/operator-client.js';
import { action, exitWith, usageError } from '../context.js';
import type { CliContext } from '../context.js';
import { configOption, durationArg, positiveIntArg } from '../options.js';
import { lineText } from '../output.js';
import { allHealthy, progressLine, ROLLOUT_HOST_COLUMNS } from './rollout-format.js';
import { followRollout, type RolloutFollowOptions } from './rollout-follow.js';
import { parseHostSelector } from '../../protocol/host-selector.js';

interface UpgradeOptions {
  host?: string[];
  selector?: string;
  all?: boolean;
  version: string;
  batch?: number;
  canary?: number;
  haltOnError?: boolean;
  healthTimeout?: number;
  allowDowngrade?: boolean;
  wait?: boolean;
  json?: boolean;
  config?: string;
}

/** Least time between two progress lines of `upgrade --wait` (changes of the rollout's own state are always shown). */
export const PROGRESS_EVERY_MS = 1000;

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];
const nonNegativeIntArg = (value: string): number => (value.trim() === '0' ? 0 : positiveIntArg(value));

const HELP = `
Hosts are upgraded a canary first (--canary N hosts, alone), then --batch N at a time; a batch is ordered once every
host of the one before it is healthy, rolled back or failed. A host not connected when its batch comes is failed
"offline". --halt-on-error stops ordering new hosts after the first failure or rollback.

Host states: pending → downloading → verifying → staged → restarting → healthy | rolled_back | failed.

Exit code with --wait: 0 when every host ended healthy, 1 otherwise (a failure, a rollback, halted or cancelled,
or interrupted: the rollout goes on at the CP). Without --wait: 0 once the CP accepted the rollout.

Examples:
  okesu upgrade --all --version 0.2.0 --canary 1 --batch 20 --halt-on-error --wait
  okesu upgrade --selector label:env=staging --version 0.2.0
  okesu rollouts ro_0123456789abcdef`;

/** The hosts of `--host` (repeatable), `--selector` or `--all` as the request names them; a usage error text otherwise. */
export function rolloutTarget(opts: Pick<UpgradeOptions, 'host' | 'selector' | 'all'>): { hosts: string[] } | { selector: string } | { all: true } | string {
  const hosts = [...new Set((opts.host ?? []).map((h) => h.trim()).filter((h) => h !== ''))];
  const kinds = [hosts.length > 0, opts.selector !== undefined, opts.all === true].filter(Boolean).length;
  if (kinds !== 1) return 'give exactly one of --host H (repeatable), --selector label:k=v or --all';
  if (opts.all) return { all: true };
  if (opts.selector === undefined) return { hosts };
  const parsed = parseHostSelector(opts.selector);
  if (!parsed.ok) return `--selector: ${parsed.error}`;
  return parsed.selector.kind === 'all' ? { all: true } : { selector: opts.selector };
}

/** Registers `okesu upgrade`: a rollout of a stored release to hosts (admin). */
export function registerUpgrade(program: Command, ctx: CliContext, follow: RolloutFollowOptions = {}): void {
  const cmd = program
    .command('upgrade')
    .description('upgrade daimons to a release stored on the CP, a canary then batches (admin)')
    .option('--host <host>', 'a host to upgrade (repeatable)', collect)
    .option('--selector <selector>', 'hosts whose labels match: label:k=v[,k=v]')
    .option('--all', 'every registered host')
    .requiredOption('--version <version>', 'the release to install (okesu release add)')
    .addOption(new Option('--batch <n>', 'hosts ordered at a time after the canary (default 10)').argParser(positiveIntArg))
    .addOption(new Option('--canary <n>', 'hosts upgraded first, alone (default 0)').argParser(nonNegativeIntArg))
    .option('--halt-on-error', 'stop ordering hosts once one fails or rolls back')
    .addOption(new Option('--health-timeout <duration>', 'how long a restarted host has to heartbeat on the new version before it rolls back (default 60s)').argParser(durationArg))
    .option('--allow-downgrade', 'allow installing a version older than the one a host runs')
    .option('--wait', 'follow the rollout to its end: a progress bar and counts per state on stderr, at most a line a second')
    .option('--json', 'print the RolloutView as JSON (the final one with --wait)')
    .addOption(configOption())
    .addHelpText('after', HELP);
  cmd.action(
    action(ctx, async (opts: UpgradeOptions) => {
      const target = rolloutTarget(opts);
      if (typeof target === 'string') usageError(cmd, target);
      if (!versionSchema.safeParse(opts.version).success) usageError(cmd, `--version: "${opts.version}" is not a version MAJOR.MINOR.PATCH[-PRERELEASE]`);
      const body: CreateRolloutInput = {
        version: opts.version,
        ...target,
        ...(opts.batch !== undefined && { batch: opts.batch }),
        ...(opts.canary !== undefined && { canary: opts.canary }),
        ...(opts.haltOnError && { halt_on_error: true }),
        ...(opts.healthTimeout !== undefined && { health_timeout_ms: opts.healthTimeout }),
        ...(opts.allowDowngrade && { allow_downgrade: true }),
      };
      const conn = ctx.connect(opts.config);
      if (!opts.wait) {
        const view = await conn.client.createRollout(body);
        if (opts.json) ctx.out.printJson(view);
        else ctx.out.printLine(`${view.rollout_id}: ${lineText(progressLine(view))}  (follow: okesu rollouts ${view.rollout_id})`);
        return;
      }
      // A progress line on stderr (a pipe of --json stays clean) per change, at most one a second: a large fleet
      // changes many times a second. The rollout's own state changes (completed, halted) are always shown.
      let last: { text: string; state: string; at: number } | undefined;
      const final = await followRollout(ctx, conn, () => conn.client.createRollout(body), (view) => {
        const line = progressLine(view);
        const text = lineText(line);
        const at = Date.now();
        if (last && (text === last.text || (view.state === last.state && at - last.at < PROGRESS_EVERY_MS))) return;
        ctx.out.status([`${view.rollout_id} `, ...line]);
        last = { text, state: view.state, at };
      }, follow);
      report(ctx, final, opts.json === true);
      if (!allHealthy(final)) exitWith(1, `rollout ${final.rollout_id} ${final.state}: not every host is healthy`);
    }),
  );
}

/** The end of `upgrade --wait`: the JSON view, or the hosts that did not end healthy. */
function report(ctx: CliContext, view: RolloutView, json: boolean): void {
  if (json) return ctx.out.printJson(view);
  ctx.out.printLine(`${view.rollout_id} ${view.state}${view.halted_reason ? ` (${view.halted_reason})` : ''}: ${lineText(progressLine(view))}`);
  const bad = (view.hosts ?? []).filter((h) => h.state !== 'healthy');
  if (bad.length > 0) ctx.out.printTable(bad.slice(0, 50), ROLLOUT_HOST_COLUMNS);
  if (bad.length > 50) ctx.out.printLine(`… and ${bad.length - 50} more (okesu rollouts ${view.rollout_id})`);
}
