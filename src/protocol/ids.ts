import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A time-sortable unique id with a prefix, e.g. `r_01JD…` (10 chars of ms time + 16 of randomness, Crockford base32). */
export function newId(prefix: string, now: number = Date.now()): string {
  return encodeId(prefix, encodeTime(now), randomBytes(10), 0);
}

/** `count` ids as `newId` makes them, drawing the randomness in one call (a fan-out creates thousands at once). */
export function newIds(prefix: string, now: number, count: number): string[] {
  const time = encodeTime(now);
  const rand = randomBytes(10 * count);
  return Array.from({ length: count }, (_, i) => encodeId(prefix, time, rand, 10 * i));
}

function encodeTime(now: number): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return time;
}

function encodeId(prefix: string, time: string, rand: Buffer, at: number): string {
  let tail = '';
  for (let i = 0; i < 16; i++) tail += CROCKFORD[(rand[at + (i % 10)] as number) >> (i < 10 ? 3 : 0) & 31];
  return `${prefix}_${time}${tail}`;
}

/** Shape of a run id on the wire. */
export const RUN_ID_RE = /^r_[0-9A-Z]{26}$/;
