import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import './nats-provided.js';

export { startNatsServer, type TestNatsServer } from './nats-server.js';

/** The run's nats-server URL (started once by nats-global-setup.ts). */
export function testNatsUrl(): string {
  const url = inject('natsUrl');
  if (!url) throw new Error('this test needs the NATS test server, and the run was started with OKESU_TEST_NATS=off');
  return url;
}

/** A cluster name of its own for one test file or test (`<prefix>_<random>`), so files sharing the server never meet. */
export function testClusterName(prefix = 't'): string {
  return `${prefix.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40)}_${randomBytes(5).toString('hex')}`;
}
