import type { Logger } from 'pino';
import type { ConsoleStore } from '../store/console-store.js';
import type { Flash } from '../store/ui-state.js';

/** The text of a failure: an Error's message, else the value as text. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Shows `text` on the flash line. */
export type Flasher = (text: string, level?: Flash['level']) => void;

/** A flasher dating each flash by `now()`. */
export function createFlasher(store: ConsoleStore, now: () => number): Flasher {
  return (text, level = 'info') => store.dispatch({ type: 'ui/flash', flash: { text, level, at: now() } });
}

/** Logs a failed action (with the error under `err`) and shows its message as an error flash. */
export function reportFailure(log: Logger, flash: Flasher, what: string, err: unknown): void {
  log.warn({ err, action: what }, 'console action failed');
  flash(`${what} failed: ${errorText(err)}`, 'error');
}
