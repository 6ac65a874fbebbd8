import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Server } from 'node:tls';
import type { Logger } from 'pino';
import { readFileIfExists, writeFileAtomic } from '../files/atomic-write.js';

/** File in the CP state dir holding the TLS session-ticket keys (0600, next to the CA key). */
export const TICKET_KEYS_FILE = 'tls-ticket-keys.json';
/**
 * How long one set of ticket keys is used, and how long a ticket lives (a ticket never outlives its keys). Kept across
 * CP restarts while younger than this, so the reconnect storm after a restart resumes instead of redoing every mutual-TLS
 * handshake; rotated when older, at start and on a timer.
 */
export const TICKET_KEY_PERIOD_MS = 24 * 3_600_000;
const KEY_BYTES = 48;

interface StoredKeys {
  createdAt: number;
  keys: Buffer;
}

function read(path: string): StoredKeys | undefined {
  const text = readFileIfExists(path);
  if (text === undefined) return undefined;
  try {
    const doc = JSON.parse(text) as { created_at?: unknown; keys?: unknown };
    const keys = typeof doc.keys === 'string' ? Buffer.from(doc.keys, 'base64') : undefined;
    if (typeof doc.created_at !== 'number' || !keys || keys.length !== KEY_BYTES) return undefined;
    return { createdAt: doc.created_at, keys };
  } catch {
    return undefined;
  }
}

function fresh(path: string, now: number): StoredKeys {
  const stored = { createdAt: now, keys: randomBytes(KEY_BYTES) };
  writeFileAtomic(path, `${JSON.stringify({ created_at: now, keys: stored.keys.toString('base64') })}\n`, 0o600);
  return stored;
}

/**
 * The CP's session-ticket keys: those in the state dir while younger than `periodMs`, else new ones (written first).
 * A damaged file is replaced: the only cost is one full handshake per daimon.
 */
export function loadTicketKeys(stateDir: string, now: number, periodMs = TICKET_KEY_PERIOD_MS): StoredKeys {
  const path = join(stateDir, TICKET_KEYS_FILE);
  const stored = read(path);
  return stored && now - stored.createdAt < periodMs && stored.createdAt <= now ? stored : fresh(path, now);
}

/** Rotates the server's ticket keys when they reach `periodMs` (tickets under the old keys then need a full handshake). */
export function rotateTicketKeys(
  server: Pick<Server, 'setTicketKeys'>,
  opts: { stateDir: string; createdAt: number; periodMs?: number; now: () => number; log: Logger },
): { stop(): void } {
  const periodMs = opts.periodMs ?? TICKET_KEY_PERIOD_MS;
  let timer: NodeJS.Timeout | undefined;
  const schedule = (createdAt: number): void => {
    timer = setTimeout(() => {
      const next = fresh(join(opts.stateDir, TICKET_KEYS_FILE), opts.now());
      server.setTicketKeys(next.keys);
      opts.log.info('TLS session-ticket keys rotated');
      schedule(next.createdAt);
    }, Math.max(1000, createdAt + periodMs - opts.now()));
    timer.unref();
  };
  schedule(opts.createdAt);
  return { stop: () => clearTimeout(timer) };
}
