import { describe, expect, it } from 'vitest';
import { DEFAULT_RECONNECT_RATE_PER_S, reconnectSpreadMs } from '../../src/cp/tunnel/tunnel-hub.js';
import { cpFrameSchema } from '../../src/protocol/tunnel.js';

describe('reconnect window the CP names in its welcome', () => {
  it('is the time the connected fleet needs at the CP’s handshake rate, capped at 10 minutes', () => {
    expect(reconnectSpreadMs(0)).toBe(0);
    expect(reconnectSpreadMs(DEFAULT_RECONNECT_RATE_PER_S)).toBe(1000);
    expect(reconnectSpreadMs(10_000)).toBe(Math.floor((10_000 / DEFAULT_RECONNECT_RATE_PER_S) * 1000));
    expect(reconnectSpreadMs(10_000_000)).toBe(600_000);
    expect(reconnectSpreadMs(10_000, 500)).toBe(20_000);
  });

  it('is optional in the frame (an older CP omits it) and must be a sane number when present', () => {
    const welcome = { type: 'welcome', hostname: 'web-01', heartbeat_interval_ms: 5000, server_time: 1 };
    expect(cpFrameSchema.safeParse(welcome).success).toBe(true);
    expect(cpFrameSchema.safeParse({ ...welcome, reconnect_spread_ms: 50_000 }).success).toBe(true);
    expect(cpFrameSchema.safeParse({ ...welcome, reconnect_spread_ms: -1 }).success).toBe(false);
    expect(cpFrameSchema.safeParse({ ...welcome, reconnect_spread_ms: 86_400_000 }).success).toBe(false);
  });
});
