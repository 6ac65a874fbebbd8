import { Writable } from 'node:stream';
import { pino } from 'pino';

/** A free loopback port, so a restarted CP comes back where its daimons look for it. */
export { freePort } from '../support/child-servers.js';

/** A pino logger whose JSON lines the test reads. */
export function captureJson(): { log: pino.Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(c.toString()), cb()) });
  return { log: pino({ level: 'info' }, stream), lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}
