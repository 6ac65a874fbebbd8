import type { TestProject } from 'vitest/node';
import { startNatsServer } from './nats-server.js';
import './nats-provided.js';

/**
 * Vitest globalSetup: one nats-server (test/support/nats-server.ts, ~50 ms) for the whole run, provided to tests as
 * `natsUrl` (read it with `testNatsUrl()` from test/support/nats.ts). Each test file uses its own cluster name on it.
 * - Without nats-server installed the run fails here, naming scripts/install-test-deps.sh: NATS tests never skip.
 * - OKESU_TEST_NATS_URL reuses a server started by hand; OKESU_TEST_NATS=off starts nothing (tests that need NATS
 *   then fail saying so).
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const env = process.env;
  if (env.OKESU_TEST_NATS === 'off') {
    project.provide('natsUrl', null);
    return undefined;
  }
  if (env.OKESU_TEST_NATS_URL) {
    project.provide('natsUrl', env.OKESU_TEST_NATS_URL);
    return undefined;
  }
  const server = await startNatsServer();
  project.provide('natsUrl', server.url);
  return () => server.stop();
}
