import type { Logger } from 'pino';
import type { Leadership } from './cluster/leadership.js';

/** Work that runs on one replica of the CP at a time: started when it becomes the leader, stopped when it no longer is. */
export interface LeaderDuty {
  name: string;
  start(): void;
  stop(): void | Promise<void>;
}

/** Runs the duties while this replica leads (on a single CP: for as long as it runs). */
export interface LeaderDuties {
  /** Stops every running duty (shutdown) and waits for those that finish asynchronously. */
  stopAll(): Promise<void>;
}

/**
 * Binds the duties to leadership. Duties start in the order given and stop in reverse; a duty that fails to start is
 * logged and the others still start (the next change of leadership tries again).
 */
export function bindLeaderDuties(leadership: Leadership, duties: readonly LeaderDuty[], log: Logger): LeaderDuties {
  let running = false;
  let stopping: Promise<unknown> = Promise.resolve();
  const stop = (): Promise<unknown> => {
    running = false;
    return Promise.all(
      [...duties].reverse().map(async (d) => {
        try {
          await d.stop();
        } catch (err) {
          log.error({ err, duty: d.name }, 'a leader duty failed to stop');
        }
      }),
    );
  };
  let closed = false;
  leadership.onChange((leader) => {
    if (leader && !running && !closed) {
      running = true;
      for (const d of duties) {
        try {
          d.start();
        } catch (err) {
          log.error({ err, duty: d.name }, 'a leader duty failed to start');
        }
      }
    } else if (!leader && running) stopping = stop();
  });
  return {
    async stopAll() {
      closed = true;
      if (running) stopping = stop();
      await stopping;
    },
  };
}
