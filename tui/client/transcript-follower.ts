import type { Logger } from 'pino';
import { RUN_END_STATUSES } from '../../src/protocol/event.js';
import type { OperatorClient } from '../../src/transport/operator-client.js';
import { backoffDelay } from '../../src/transport/stream-client.js';
import type { ConsoleStore } from '../store/console-store.js';
import { errorText, type Flasher } from './flash.js';
import type { Timers } from './timers.js';

/** How long one long poll of a run's events waits at the CP for new ones. */
export const TRANSCRIPT_WAIT_MS = 10_000;

/** Follows at most one run's transcript into the store. */
export interface TranscriptFollower {
  /** Follows `runId`, ending any other follow. */
  follow(runId: string): void;
  /** Ends the follow and closes the transcript. */
  stop(): void;
}

const ENDED: ReadonlySet<string> = new Set(RUN_END_STATUSES);

/**
 * Long-polls `runEvents(id, after, 10 s)` in a loop, appending each page to `details.transcript`, until the run has
 * ended or the follow is replaced or stopped. A failed poll is flashed and retried with backoff.
 */
export function createTranscriptFollower(deps: { client: OperatorClient; store: ConsoleStore; log: Logger; timers: Timers; flash: Flasher }): TranscriptFollower {
  const { client, store, log, timers, flash } = deps;
  // Each follow has its own token; a loop whose token is no longer current stops at its next step.
  let current = 0;
  let retry: unknown;

  const pause = (ms: number): Promise<void> => new Promise((resolve) => {
    retry = timers.setTimeout(resolve, ms);
  });

  const loop = async (token: number, runId: string): Promise<void> => {
    let after: number | undefined;
    let failures = 0;
    while (token === current) {
      try {
        const page = await client.runEvents(runId, after, TRANSCRIPT_WAIT_MS);
        if (token !== current) return;
        failures = 0;
        after = page.next;
        const ended = ENDED.has(page.run.status);
        store.dispatch({ type: 'transcript', runId, events: page.events, next: page.next, ended });
        if (ended) return;
      } catch (err) {
        if (token !== current) return;
        log.warn({ err, runId }, 'transcript poll failed');
        if (failures === 0) flash(`transcript of ${runId}: ${errorText(err)}`, 'error');
        await pause(backoffDelay(failures++, 500, 10_000));
      }
    }
  };

  const cancel = (): void => {
    current += 1;
    if (retry !== undefined) timers.clearTimeout(retry);
    retry = undefined;
  };

  return {
    follow(runId) {
      cancel();
      const token = current;
      void loop(token, runId);
    },
    stop() {
      cancel();
      store.dispatch({ type: 'transcript-close' });
    },
  };
}
