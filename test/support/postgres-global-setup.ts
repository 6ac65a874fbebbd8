import type { TestProject } from 'vitest/node';
import './postgres-provided.js';
import { startPostgresServer } from './postgres-server.js';

/**
 * Vitest globalSetup: one PostgreSQL server (~1 s) for the whole run, provided to tests as `postgresAdminUrl`; each
 * test file makes its own database with `testPostgresUrl()` (test/support/postgres.ts). Teardown stops only that server.
 * - Without PostgreSQL installed the run fails here, with the install command: PostgreSQL tests never skip silently.
 * - OKESU_TEST_PG_URL reuses a server started by hand (a superuser URL), for quick iterations.
 * - OKESU_TEST_PG=off starts nothing (for running unrelated tests quickly); tests that need PostgreSQL then fail saying so.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const env = process.env;
  if (env.OKESU_TEST_PG === 'off') {
    project.provide('postgresAdminUrl', null);
    return undefined;
  }
  if (env.OKESU_TEST_PG_URL) {
    project.provide('postgresAdminUrl', env.OKESU_TEST_PG_URL);
    return undefined;
  }
  const started = Date.now();
  const server = await startPostgresServer();
  if (env.OKESU_TEST_PG_VERBOSE) console.log(`PostgreSQL up at ${server.url} in ${Date.now() - started} ms (${server.dir})`);
  project.provide('postgresAdminUrl', server.url);
  return server.stop;
}
