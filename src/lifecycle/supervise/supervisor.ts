import { existsSync, lstatSync, realpathSync, rmSync } from 'node:fs';
import type { Logger } from 'pino';
import {
  lifecyclePaths, SUPERVISOR_ENV, UPGRADE_RESTART_EXIT_CODE,
  type LifecyclePaths, type PendingUpgrade, type UpgradeResult,
} from '../../../daimon/lifecycle/state-layout.js';
import { startChild, type ChildExit, type SupervisedChild } from './child.js';
import { nextBackoff } from './backoff.js';
import { recordChild, stopLeftoverChild } from './leftover-child.js';
import { exitReason, markHealthy, readPending, rollBack, secondsText, trialDeadline, trialStage, trialPassed, voidTrial } from './trial.js';

/** What `okesu supervise` runs: the daimon's arguments, and how to start this okesu when `bin/current` is absent. */
export interface SupervisorOptions {
  stateDir: string;
  /** Arguments for the daimon (what followed `--`), e.g. `daemon --state DIR`. */
  args: readonly string[];
  /** This okesu: program and leading arguments (`runningExecutable`); asked only when `bin/current` is absent, may throw. */
  self: () => { command: string; args: readonly string[] };
  /** Exit code with which the daimon says restarting cannot help (the CP refused the host): the supervisor exits too. */
  fatalExitCode: number;
  /** Longest wait before restarting a crashed daimon (default 30 s). */
  backoffMaxMs?: number;
  /** First wait (default 1 s). */
  backoffMinMs?: number;
  /** SIGTERM → SIGKILL grace for a child that failed its trial (default 10 s). */
  stopGraceMs?: number;
  /** How often a trial looks at `health.json` (default 250 ms). */
  healthPollMs?: number;
  /** The child's environment before OKESU_SUPERVISOR_PID is added (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** What the supervisor takes from its process. */
export interface SupervisorDeps {
  log: Logger;
  /** Wall clock (ms since the epoch): `swapped_at` and health marks are wall-clock times. */
  now?: () => number;
}

/** `okesu supervise`: keeps one daimon running and judges upgrade trials. */
export interface Supervisor {
  /** Runs until stopped or the daimon exits fatally; resolves with the supervisor's exit code. */
  run(): Promise<number>;
  /** Forwards the signal to the daimon and ends `run` once it has exited (no restart). */
  stop(signal: NodeJS.Signals): void;
}

/** A daimon that exits 75 sooner than this with no trial pending is treated as crashing, not as upgrading. */
const QUICK_EXIT_MS = 1000;

/** How a trial ended while its child ran, or that the supervisor was asked to stop meanwhile. */
type TrialEnd = 'healthy' | 'rolled_back' | 'stopped';

/** Builds the supervisor of the daimon in `options.stateDir` (docs/lifecycle.md, Upgrade step 5). */
export function createSupervisor(options: SupervisorOptions, deps: SupervisorDeps): Supervisor {
  const paths = lifecyclePaths(options.stateDir);
  const { log } = deps;
  const now = deps.now ?? Date.now;
  const backoffMin = options.backoffMinMs ?? 1000;
  const backoffMax = Math.max(backoffMin, options.backoffMaxMs ?? 30_000);
  const grace = options.stopGraceMs ?? 10_000;
  const pollMs = options.healthPollMs ?? 250;
  const env = { ...(options.env ?? process.env), [SUPERVISOR_ENV]: String(process.pid) };

  let stopping = false;
  let child: SupervisedChild | undefined;
  let wake: () => void = () => undefined;

  /** Sleeps `ms`, or less when stop() is called. */
  const nap = (ms: number): Promise<void> => new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      wake = () => undefined;
      resolve();
    }
    wake = done;
  });

  /** The trial to judge for the next child, after settling what a restarted supervisor finds already decided. */
  function loadTrial(): PendingUpgrade | undefined {
    const read = readPending(paths);
    if (read.kind === 'none') return undefined;
    if (read.kind === 'invalid') {
      // Written atomically by the daimon, so this is damage, not a half-written file; nobody can act on it.
      log.error({ problem: read.problem }, 'removing an unreadable upgrade/pending.json; no trial is judged');
      rmSync(paths.pending, { force: true });
      return undefined;
    }
    const pending = read.pending;
    const stage = trialStage(paths, pending);
    if (stage !== 'on_trial') {
      // Killed mid-rollback (swapped back, not recorded): record it now; killed before the swap: no trial happened.
      report(stage === 'rolled_back' ? rollBack(paths, pending, 'rolled back (the supervisor was stopped while rolling back)', now()) : voidTrial(paths, pending, now()));
      return undefined;
    }
    if (trialPassed(paths, pending)) {
      // A child of the new version heartbeated while no supervisor was watching (we were restarted mid-trial).
      report(markHealthy(paths, pending, now()));
      return undefined;
    }
    if (now() > trialDeadline(pending)) {
      report(rollBack(paths, pending, `no heartbeat within ${secondsText(pending.health_timeout_ms)}`, now()));
      return undefined;
    }
    return pending;
  }

  function report(result: UpgradeResult): void {
    const fields = { rollout_id: result.rollout_id, version: result.version, outcome: result.outcome, reason: result.reason };
    if (result.outcome === 'healthy') log.info(fields, 'upgrade trial passed: the new version heartbeats');
    else log.warn(fields, 'upgrade trial failed: rolled back to the previous version');
  }

  function target(): { command: string; args: readonly string[]; file: string } {
    if (existsSync(paths.current)) return { command: paths.current, args: [], file: realpathSync(paths.current) };
    if (isLink(paths)) log.warn({ path: paths.current }, 'bin/current points at nothing; starting this okesu instead');
    const self = options.self();
    return { ...self, file: self.args.at(-1) ?? self.command };
  }

  /** Watches a trial while its child runs: healthy, rolled back (child stopped or exited), or stopped by a signal. */
  async function judge(c: SupervisedChild, pending: PendingUpgrade): Promise<TrialEnd> {
    let exit: ChildExit | undefined;
    void c.exited.then((e) => {
      exit = e;
      wake();
    });
    for (;;) {
      if (stopping) return 'stopped';
      if (trialPassed(paths, pending, c.pid)) {
        report(markHealthy(paths, pending, now()));
        return 'healthy';
      }
      if (exit) {
        report(rollBack(paths, pending, exitReason(exit), now()));
        return 'rolled_back';
      }
      const left = trialDeadline(pending) - now();
      if (left < 0) {
        log.warn({ pid: c.pid, version: pending.to_version }, 'no heartbeat of the new version in time: stopping it');
        await c.stop(grace);
        if (stopping) return 'stopped';
        report(rollBack(paths, pending, `no heartbeat within ${secondsText(pending.health_timeout_ms)}`, now()));
        return 'rolled_back';
      }
      await nap(Math.min(pollMs, left + 1));
    }
  }

  async function run(): Promise<number> {
    let backoff = 0;
    await stopLeftoverChild(paths, options.stateDir, log, grace);
    while (!stopping) {
      const pending = loadTrial();
      const t = target();
      const c = startChild(t.command, [...t.args, ...options.args], env);
      child = c;
      recordChild(paths, c.pid);
      log.info({ pid: c.pid, executable: t.file, trial: pending && { to_version: pending.to_version, health_timeout_ms: pending.health_timeout_ms } }, 'daimon started');
      const trial = pending ? await judge(c, pending) : undefined;
      const exit = await c.exited;
      child = undefined;
      recordChild(paths, undefined);
      const fields = { pid: c.pid, code: exit.code, signal: exit.signal, error: exit.error, ran_ms: exit.ranMs };
      if (stopping) {
        log.info(fields, 'daimon stopped');
        return exit.code === options.fatalExitCode ? exit.code : 0;
      }
      if (trial === 'rolled_back') {
        backoff = 0;
        continue; // start the restored version at once
      }
      if (exit.code === options.fatalExitCode) {
        log.error(fields, 'the daimon cannot run (the CP refused this host); not restarting');
        return exit.code;
      }
      // 75 with a trial pending, or after a run of a second or more: the daimon staged an upgrade, start it now.
      // A daimon exiting 75 at once with nothing staged would otherwise spin: it gets the pauses of a crash.
      if (exit.code === UPGRADE_RESTART_EXIT_CODE && (existsSync(paths.pending) || exit.ranMs >= QUICK_EXIT_MS)) {
        log.info(fields, 'the daimon staged an upgrade: starting bin/current');
        backoff = 0;
        continue;
      }
      backoff = exit.ranMs >= backoffMax ? backoffMin : nextBackoff(backoff, backoffMin, backoffMax);
      log.warn({ ...fields, restart_in_ms: backoff }, 'daimon exited; restarting after a pause');
      await nap(backoff);
    }
    return 0;
  }

  return {
    run,
    stop(signal) {
      if (!stopping) log.info({ signal }, 'stopping: forwarding the signal to the daimon');
      stopping = true;
      child?.signal(signal);
      wake();
    },
  };
}

function isLink(paths: LifecyclePaths): boolean {
  try {
    return lstatSync(paths.current).isSymbolicLink();
  } catch {
    return false;
  }
}
