import { format } from 'node:util';
import type { Logger } from 'pino';

const METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir'] as const;

/**
 * Sends stray output — a dependency's `console.log`, a Node process warning — to the console's log file instead of
 * the terminal it draws on, where it would tear the frame. Returns the undo (called when the console leaves).
 */
export function routeStrayOutputToLog(log: Logger): () => void {
  // Replaced, not called: the methods are swapped for ones that write to the log.
  const target = globalThis.console as unknown as Record<(typeof METHODS)[number], (...args: unknown[]) => void>;
  const saved = METHODS.map((m) => [m, target[m]] as const);
  for (const m of METHODS) {
    target[m] = (...args: unknown[]) => log.warn({ console: m, text: format(...args) }, 'stray console output');
  }
  // Node prints warnings from its own 'warning' listener; while the console draws, they are logged instead.
  const warningListeners = process.listeners('warning');
  process.removeAllListeners('warning');
  const onWarning = (warning: Error): void => log.warn({ err: warning }, 'process warning');
  process.on('warning', onWarning);
  return () => {
    for (const [m, fn] of saved) target[m] = fn;
    process.off('warning', onWarning);
    for (const l of warningListeners) process.on('warning', l);
  };
}
