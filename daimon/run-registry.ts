import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { readFileIfExists, writeFileAtomic } from '../src/files/atomic-write.js';
import { RUN_ID_RE } from '../src/protocol/ids.js';
import type { EventRelay } from './event-relay.js';
import type { Logger } from './provider.js';

/**
 * First sequence number of the events the daimon writes for a run a previous process left unfinished. The dead
 * process numbered that run's events from 1 and we do not know how far it got, so recovery uses a range no run
 * reaches (a billion events). Recovery always writes the same two records (seq 1e9 and 1e9+1), so a recovery cut
 * short and repeated produces duplicates the CP drops by (run, seq), never conflicting events.
 */
export const RECOVERY_SEQ_BASE = 1_000_000_000;

/** What `runs/<run_id>.json` says about a run in flight. */
export interface RunFile {
  run_id: string;
  agent: string;
  agent_version: string;
  started_at: number;
}

const runFileSchema = z.object({ run_id: z.string().regex(RUN_ID_RE), agent: z.string(), agent_version: z.string(), started_at: z.number() });

// Run ids this process has finished, remembered so a repeated dispatch is not run twice.
const FINISHED_MEMORY = 10_000;

/** Runs of this process (running and finished) and the on-disk marker of each run in flight. */
export interface RunRegistry {
  /** Ids of the runs executing now. */
  running(): string[];
  /** True when this process has seen the run (running, finished or refused). */
  known(runId: string): boolean;
  /** Records a run as started: its marker file is written (atomically) before the run emits anything. */
  begin(file: RunFile, controller: AbortController): void;
  /** Records a run as over; its marker is deleted only when its `run_end` is durable, else recovery handles it. */
  finish(runId: string, runEndDurable: boolean): void;
  /** Remembers a refused dispatch, so a repeat of it is not run either. */
  refuse(runId: string): void;
  /** Aborts one run with `reason`; false when it is not running. */
  abort(runId: string, reason: string): boolean;
  /** Aborts every running run. */
  abortAll(reason: string): void;
  /** Marker files left by an earlier process: runs that were in flight when it died. Bad files are deleted. */
  leftovers(): RunFile[];
  /** Deletes a run's marker file. */
  forget(runId: string): void;
}

/** Creates the registry over `dir` (the state directory's `runs/`). */
export function createRunRegistry(dir: string, log: Logger): RunRegistry {
  const running = new Map<string, AbortController>();
  const finished = new Set<string>();
  const fileOf = (runId: string): string => join(dir, `${runId}.json`);
  const remember = (runId: string): void => {
    finished.add(runId);
    if (finished.size > FINISHED_MEMORY) finished.delete(finished.values().next().value as string);
  };
  const forget = (runId: string): void => rmSync(fileOf(runId), { force: true });

  return {
    running: () => [...running.keys()],
    known: (runId) => running.has(runId) || finished.has(runId),
    begin(file, controller) {
      writeFileAtomic(fileOf(file.run_id), `${JSON.stringify(file)}\n`, 0o600);
      running.set(file.run_id, controller);
    },
    finish(runId, runEndDurable) {
      running.delete(runId);
      remember(runId);
      if (runEndDurable) forget(runId);
    },
    refuse: remember,
    abort(runId, reason) {
      const controller = running.get(runId);
      if (!controller) return false;
      controller.abort(reason);
      return true;
    },
    abortAll(reason) {
      for (const controller of running.values()) controller.abort(reason);
    },
    leftovers() {
      let names: string[];
      try {
        names = readdirSync(dir).filter((n) => n.endsWith('.json'));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
      const found: RunFile[] = [];
      for (const name of names.sort()) {
        const runId = name.slice(0, -'.json'.length);
        if (running.has(runId)) continue;
        let parsed: ReturnType<typeof runFileSchema.safeParse> | undefined;
        try {
          parsed = runFileSchema.safeParse(JSON.parse(readFileIfExists(join(dir, name)) ?? 'null'));
        } catch {
          parsed = undefined;
        }
        if (parsed?.success && parsed.data.run_id === runId) found.push(parsed.data);
        else {
          log.warn({ file: join(dir, name) }, 'unreadable run marker deleted');
          rmSync(join(dir, name), { force: true });
        }
      }
      return found;
    },
    forget,
  };
}

/** What recovery tells the CP about a run the daimon died in the middle of. */
export const INTERRUPTED_MESSAGE = 'the daimon restarted while this run was in flight';

/**
 * Ends every run a previous process left in flight: relays `error` and `run_end {status:'failed'}` (numbered from
 * RECOVERY_SEQ_BASE), then deletes its marker. Resolves with the run ids it ended.
 */
export async function recoverInterruptedRuns(registry: RunRegistry, relay: EventRelay, log: Logger): Promise<string[]> {
  const ended: string[] = [];
  for (const run of registry.leftovers()) {
    const channel = relay.open({ runId: run.run_id, agent: run.agent, agentVersion: run.agent_version }, { firstSeq: RECOVERY_SEQ_BASE, broadcasts: false });
    try {
      await channel.emit({ type: 'error', message: INTERRUPTED_MESSAGE });
      await channel.emit({ type: 'run_end', status: 'failed', error: INTERRUPTED_MESSAGE });
    } finally {
      channel.close();
    }
    registry.forget(run.run_id);
    ended.push(run.run_id);
    log.warn({ run_id: run.run_id, agent: run.agent, started_at: run.started_at }, 'ended a run the previous daimon left in flight');
  }
  return ended;
}
