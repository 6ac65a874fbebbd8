import type { TraceEntry } from '../../tui/run/trace.js';
import { isFrame, isKey, type traceReader } from './console-trace.js';
import { sleep } from './stats.js';
import type { TmuxPane } from './tmux-console.js';
import { wallNow } from './tail-process.js';

/** One measured keypress. */
export interface Press {
  key: string;
  /** Console read the key → its next frame write, from the console's own trace (no terminal polling in it). */
  redrawMs: number;
  /** `tmux send-keys` started here → that frame write: adds tmux and the pty. */
  sendToFrameMs: number;
  /** `tmux send-keys` started → capture-pane first shows a changed screen (the cross-check; includes polling). */
  screenMs: number | undefined;
}

const poll = async <T>(what: string, fn: () => T | undefined, timeoutMs: number, intervalMs = 1): Promise<T> => {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
};

/**
 * Presses each key of `keys` in turn (one `send-keys` each, `gapMs` apart) and measures it from the trace: the
 * console's read of the key to its next write to the terminal. With `crossCheck`, also polls capture-pane until the
 * screen changed (so keys must change the screen: move a selection, drill in, go back, switch a sub-view).
 */
export async function measurePresses(pane: TmuxPane, trace: ReturnType<typeof traceReader>, keys: readonly string[], opts: { gapMs: number; crossCheck: boolean }): Promise<Press[]> {
  const presses: Press[] = [];
  for (const key of keys) {
    trace.poll();
    const before = opts.crossCheck ? await pane.screen() : '';
    const sentAt = wallNow();
    await pane.key(key);
    let keyEntry: Extract<TraceEntry, { key: string }> | undefined;
    const frame = await poll(`a frame after ${key}`, () => {
      for (const e of trace.poll()) {
        if (isKey(e)) keyEntry ??= e;
        else if (isFrame(e) && keyEntry !== undefined) return e;
      }
      return undefined;
    }, 5000);
    let screenMs: number | undefined;
    if (opts.crossCheck) {
      const deadline = sentAt + 2000;
      for (;;) {
        const now = await pane.screen();
        if (now !== before) {
          screenMs = wallNow() - sentAt;
          break;
        }
        if (wallNow() > deadline) break;
      }
    }
    presses.push({ key, redrawMs: frame.ts - (keyEntry as { ts: number }).ts, sendToFrameMs: frame.ts - sentAt, screenMs });
    await sleep(opts.gapMs);
  }
  return presses;
}
