import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { rotateSharedTicketKeys, sharedTicketKeys } from '../../../src/cp/cluster/shared-ticket-keys.js';

const log = pino({ level: 'silent' });
afterEach(() => {
  vi.useRealTimers();
});

describe('shared TLS ticket keys', () => {
  it('are the same for the same secret and period on every replica, and differ for another secret', () => {
    const secret = Buffer.alloc(32, 3);
    const [a, b] = [sharedTicketKeys(secret, 10_000), sharedTicketKeys(Buffer.from(secret), 10_000)];
    expect(a.keysAt(25_000).equals(b.keysAt(29_999))).toBe(true);
    expect(a.keysAt(25_000).equals(b.keysAt(30_000))).toBe(false);
    expect(sharedTicketKeys(Buffer.alloc(32, 4), 10_000).keysAt(25_000).equals(a.keysAt(25_000))).toBe(false);
    expect(a.periodStart(25_000)).toBe(20_000);
  });

  it('rotate at each period boundary, to the keys every replica computes for that period', () => {
    vi.useFakeTimers({ now: 1_000_500 });
    const keys = sharedTicketKeys(Buffer.alloc(32, 9), 10_000);
    const set: Buffer[] = [];
    const rotation = rotateSharedTicketKeys({ setTicketKeys: (k: Buffer) => void set.push(k) }, { keys, now: Date.now, log });
    vi.advanceTimersByTime(9_499);
    expect(set).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(set).toHaveLength(1);
    expect(set[0]?.equals(keys.keysAt(1_010_000))).toBe(true);
    vi.advanceTimersByTime(10_000);
    expect(set).toHaveLength(2);
    expect(set[1]?.equals(keys.keysAt(1_020_000))).toBe(true);
    rotation.stop();
    vi.advanceTimersByTime(30_000);
    expect(set).toHaveLength(2);
  });
});
