import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOperatorClient } from '../../src/transport/operator-client.js';
import { startCp, type CpHarness } from '../cp/cp-harness.js';

// A long-lived client (the console, `run --wait`, a script) that pauses between requests must not fail the next
// one. The CP closes an idle keep-alive connection after ~5-6 s (Node's keepAliveTimeout); a request sent on a pooled
// connection right as the server closes it ends in ECONNRESET ("socket hang up") unless the client retires idle
// connections before the server does or retries a request that never reached it.
describe('the operator client after an idle pause', () => {
  let h: CpHarness;
  beforeAll(async () => {
    h = await startCp();
  });
  afterAll(() => h.close());

  it('answers every request after pauses around the server\'s keep-alive timeout', async () => {
    const client = createOperatorClient(h.adminConfig);
    const failures: string[] = [];
    for (const idleMs of [6000, 6000, 6000]) {
      await Promise.all([1, 2, 3, 4].map(() => client.hosts()));
      // The pause is the point of the test: pooled connections go idle up to the server's keep-alive timeout.
      await new Promise((resolve) => setTimeout(resolve, idleMs));
      await Promise.all([1, 2, 3, 4].map(() => client.hosts())).catch((err: unknown) => failures.push(`after ${idleMs} ms: ${String(err)}`));
    }
    expect(failures).toEqual([]);
  }, 40_000);
});
