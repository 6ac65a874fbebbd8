import type { Logger } from 'pino';
import type { StreamMessage } from '../../src/protocol/api.js';
import type { ClientConfig } from '../../src/protocol/client-config.js';
import { createOperatorClient, type OperatorClient } from '../../src/transport/operator-client.js';
import { backoffDelay, openStream as openRealStream, type StreamHandle, type StreamState } from '../../src/transport/stream-client.js';
import type { ConsoleStore } from '../store/console-store.js';
import type { ConsoleActions } from './actions.js';
import { createConsoleActions } from './console-actions.js';
import { createFlasher, errorText } from './flash.js';
import { loadBackfill, loadSnapshot, type SnapshotEvent } from './load-snapshot.js';
import { createRefreshers } from './refreshers.js';
import { createStreamBatcher } from './stream-batcher.js';
import { realTimers, type TimerHandle, type Timers } from './timers.js';
import { createTranscriptFollower } from './transcript-follower.js';

/** Backoff of a failed full load: 500 ms doubling to 10 s. */
const LOAD_BACKOFF = { minMs: 500, maxMs: 10_000 } as const;

/** What the console client is built from. */
export interface ConsoleClientOptions {
  config: ClientConfig;
  store: ConsoleStore;
  /** The console's logger (writes to a file, never the terminal). */
  log: Logger;
  /** The API client (default: the HTTPS client for `config`). */
  client?: OperatorClient;
  /** Opens the live stream (default: the WebSocket stream client). */
  openStream?: typeof openRealStream;
  /** Wall clock in ms (default Date.now). */
  now?: () => number;
  /** Scheduling (default the process's timers). */
  timers?: Timers;
  /** What `actions.quit()` does (the console's runner usually supplies its own quit). */
  onQuit?: () => void;
  /**
   * A first snapshot already on its way (`okesu console` starts it before it loads the console's code, so the CP
   * answers while Ink and React are being parsed); used by the first load only, a failure retried as any other.
   */
  firstSnapshot?: Promise<SnapshotEvent>;
}

/** The console's link to the CP: loads, streams and refreshes into the store, and carries out actions. */
export interface ConsoleClient {
  /** Starts loading; resolves after the first load attempt (the client keeps retrying by itself). Never rejects. */
  start(): Promise<void>;
  /** Stops the stream, every timer and any followed transcript. */
  stop(): void;
  actions: ConsoleActions;
}

/**
 * Builds the console client. It loads a snapshot of the CP (retrying with backoff while the CP is unreachable),
 * follows the live stream from the snapshot's cursor (batched into the store at most every 30 ms), reloads fully
 * after a stream gap, and refreshes what is not streamed (host liveness, counts, groups, the library) on timers.
 */
export function createConsoleClient(opts: ConsoleClientOptions): ConsoleClient {
  const { config, store, log } = opts;
  const client = opts.client ?? createOperatorClient(config);
  const openStream = opts.openStream ?? openRealStream;
  const now = opts.now ?? Date.now;
  const timers = opts.timers ?? realTimers;
  const flash = createFlasher(store, now);

  let stopped = false;
  let loading = false;
  let firstSnapshot = opts.firstSnapshot;
  let failures = 0;
  let retryTimer: TimerHandle | undefined;
  let stream: StreamHandle | undefined;
  // Callbacks of a stream closed on purpose (reload, stop) are ignored: only the current one speaks.
  let streamGen = 0;

  const connection = (state: StreamState, detail: string | null): void =>
    store.dispatch({ type: 'connection', state, detail, at: now() });

  // A rollout first seen on the stream carries no hosts: fetched once, whole, for the rollouts view's dots.
  const fetchingRollouts = new Set<string>();
  const fetchRollouts = (messages: readonly StreamMessage[]): void => {
    for (const m of messages) {
      if (m.type !== 'rollout' || fetchingRollouts.has(m.rollout.rollout_id)) continue;
      const known = store.getState().rollouts.get(m.rollout.rollout_id);
      if (known?.hosts !== undefined && known.hosts.length >= Object.values(known.counts).reduce((a, b) => a + b, 0)) continue;
      const id = m.rollout.rollout_id;
      fetchingRollouts.add(id);
      // Through a promise: whatever the client throws becomes a logged failure, never an exception in the batcher.
      Promise.resolve().then(() => client.getRollout(id)).then(
        (rollout) => store.dispatch({ type: 'rollout', rollout }),
        (err: unknown) => log.warn({ err, rollout: id }, 'fetching a rollout failed'),
      );
    }
  };
  const batcher = createStreamBatcher(timers, (messages) => {
    store.dispatch({ type: 'stream', messages, at: now() });
    if (messages.some((m) => m.type === 'triage')) refreshers.triaged();
    fetchRollouts(messages);
  });
  const refreshers = createRefreshers({ client, store, timers, now, onError: (what, err) => log.warn({ err, what }, 'refresh failed') });

  const closeStream = (): void => {
    streamGen += 1;
    stream?.close();
    stream = undefined;
    batcher.clear();
  };

  const onStreamState = (gen: number, state: StreamState, detail?: string): void => {
    if (gen !== streamGen || stopped) return;
    if (detail?.startsWith('OKS_ERR_STREAM_GAP')) {
      // The CP no longer holds what we missed: take a fresh snapshot and follow on from its cursor.
      log.warn({ detail }, 'stream gap; reloading');
      flash(`${detail.split(';')[0] ?? detail}; reloading`, 'warn');
      reload();
      return;
    }
    if (state === 'open' && detail !== undefined) {
      // A non-fatal event on an open stream (a rejected frame): logged, the connection stays open.
      log.warn({ detail }, 'stream notice');
      connection('open', null);
      return;
    }
    if (detail !== undefined) log.info({ state, detail }, 'stream state');
    if (state === 'closed' && detail !== undefined) flash(`live stream stopped: ${detail}`, 'error');
    connection(state, detail ?? null);
  };

  const follow = (after: number): void => {
    closeStream();
    const gen = streamGen;
    stream = openStream(config, {
      after,
      onMessage: (msg) => {
        if (gen === streamGen && !stopped) batcher.add(msg);
      },
      onState: (state, detail) => onStreamState(gen, state, detail),
    });
  };

  const load = async (): Promise<void> => {
    if (stopped || loading) return;
    loading = true;
    if (retryTimer !== undefined) timers.clearTimeout(retryTimer);
    retryTimer = undefined;
    let snapshot: SnapshotEvent | undefined;
    try {
      const pending = firstSnapshot ?? loadSnapshot(client, now);
      firstSnapshot = undefined;
      snapshot = await pending;
      if (stopped) return;
      failures = 0;
      store.dispatch(snapshot);
      follow(snapshot.cursor);
    } catch (err) {
      if (stopped) return;
      const delay = retryLater(err, () => void load());
      connection('connecting', `${errorText(err)}; retrying in ${Math.round(delay / 100) / 10} s`);
    } finally {
      loading = false;
    }
    if (snapshot === undefined || stopped) return;
    // The rest is asked for once the loaded frame is drawn (Ink renders on a timer after the dispatch).
    await new Promise<void>((resolve) => setImmediate(resolve));
    await backfill(snapshot);
  };

  /** Loads the rest of the picture after the first frame; retried with backoff (the snapshot stays shown). */
  async function backfill(snapshot: SnapshotEvent): Promise<void> {
    const gen = streamGen;
    try {
      const rest = await loadBackfill(client, snapshot);
      if (stopped || gen !== streamGen) return;
      store.dispatch(rest);
      refreshers.start();
    } catch (err) {
      if (stopped || gen !== streamGen) return;
      retryLater(err, () => void backfill(snapshot));
    }
  }

  /** Logs and flashes a failed load, and runs `retry` after the next backoff delay; that delay. */
  function retryLater(err: unknown, retry: () => void): number {
    const delay = backoffDelay(failures++, LOAD_BACKOFF.minMs, LOAD_BACKOFF.maxMs);
    log.warn({ err, retryInMs: delay }, 'console load failed');
    flash(errorText(err), 'error');
    retryTimer = timers.setTimeout(retry, delay);
    return delay;
  }

  function reload(): void {
    if (stopped || loading) return;
    closeStream();
    connection('connecting', 'reloading');
    void load();
  }

  const transcripts = createTranscriptFollower({ client, store, log, timers, flash });
  const actions = createConsoleActions({
    client, store, log, flash, transcripts,
    onTriaged: () => refreshers.triaged(),
    reload,
    quit: () => opts.onQuit?.(),
  });

  return {
    start: () => load(),
    stop() {
      if (stopped) return;
      stopped = true;
      if (retryTimer !== undefined) timers.clearTimeout(retryTimer);
      closeStream();
      refreshers.stop();
      transcripts.stop();
    },
    actions,
  };
}
