import { hkdfSync } from 'node:crypto';
import type { Server } from 'node:tls';
import type { Logger } from 'pino';
import { TICKET_KEY_PERIOD_MS } from '../tls-tickets.js';

// Node's setTicketKeys takes exactly 48 bytes: a 16-byte key name, a 16-byte HMAC key and a 16-byte AES key.
const TICKET_KEYS_BYTES = 48;
// setTimeout's longest delay; a longer wait is done in steps.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A replicated CP's TLS session-ticket keys. Every replica derives the keys of a period from the period's number and
 * one shared secret (HKDF-SHA256), so all of them use the same keys in the same period and rotate together, with no
 * writes and no leader: a daimon resumes its session on whichever replica the balancer sends it to.
 */
export interface SharedTicketKeys {
  readonly periodMs: number;
  /** The 48 bytes for `tls.Server#setTicketKeys` in the period holding `at` (ms since the epoch). */
  keysAt(at: number): Buffer;
  /** Start (ms since the epoch) of the period holding `at`. */
  periodStart(at: number): number;
}

/** Derives period keys from the shared ticket secret (32 random bytes kept sealed in the store). */
export function sharedTicketKeys(secret: Buffer, periodMs: number = TICKET_KEY_PERIOD_MS): SharedTicketKeys {
  const period = (at: number): number => Math.floor(at / periodMs);
  return {
    periodMs,
    keysAt: (at) => Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `okesu tls ticket keys v1 period ${period(at)}`, TICKET_KEYS_BYTES)),
    periodStart: (at) => period(at) * periodMs,
  };
}

/**
 * Moves `server` to the next period's keys at each period boundary (by this replica's clock; replicas a few seconds
 * apart cost a few daimons one full handshake at the boundary, as any rotation does).
 */
export function rotateSharedTicketKeys(
  server: Pick<Server, 'setTicketKeys'>,
  opts: { keys: SharedTicketKeys; now: () => number; log: Logger },
): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let current = opts.keys.periodStart(opts.now());
  const schedule = (): void => {
    const wait = current + opts.keys.periodMs - opts.now();
    timer = setTimeout(() => {
      const at = opts.now();
      const start = opts.keys.periodStart(at);
      if (start !== current) {
        current = start;
        server.setTicketKeys(opts.keys.keysAt(at));
        opts.log.info('TLS session-ticket keys rotated (shared period keys)');
      }
      schedule();
    }, Math.min(MAX_TIMER_MS, Math.max(1000, wait)));
    timer.unref();
  };
  schedule();
  return { stop: () => clearTimeout(timer) };
}
