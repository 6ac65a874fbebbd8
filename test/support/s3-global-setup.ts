import type { TestProject } from 'vitest/node';
import { startS3Server } from './s3-server.js';

/**
 * Vitest globalSetup: one radosgw (scripts/s3-server.sh: mon + memstore osd + rgw, ~3 s) for the whole run, on free
 * ports in a fresh temp dir, provided to tests as `s3` (read it with `s3Config()` from test/support/s3.ts). Teardown
 * stops only that server; if the run is killed hard, the script's watchdog stops it when this process is gone.
 * - Without radosgw installed the run fails here, with the install command: S3 tests never skip silently.
 * - OKESU_TEST_S3_ENDPOINT + OKESU_TEST_S3_ACCESS_KEY + OKESU_TEST_S3_SECRET_KEY (+ OKESU_TEST_S3_DIR for restarts)
 *   reuse a server started by hand with the script, for quick iterations.
 * - OKESU_TEST_S3=off starts nothing (for running unrelated tests quickly); tests that need S3 then fail saying so.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const env = process.env;
  if (env.OKESU_TEST_S3 === 'off') {
    project.provide('s3', null);
    return undefined;
  }
  if (env.OKESU_TEST_S3_ENDPOINT && env.OKESU_TEST_S3_ACCESS_KEY && env.OKESU_TEST_S3_SECRET_KEY) {
    project.provide('s3', {
      endpoint: env.OKESU_TEST_S3_ENDPOINT,
      region: env.AWS_REGION ?? 'us-east-1',
      accessKeyId: env.OKESU_TEST_S3_ACCESS_KEY,
      secretAccessKey: env.OKESU_TEST_S3_SECRET_KEY,
      dir: env.OKESU_TEST_S3_DIR ?? '',
    });
    return undefined;
  }
  const started = Date.now();
  const { stop, ...server } = await startS3Server();
  if (env.OKESU_TEST_S3_VERBOSE) console.log(`radosgw up at ${server.endpoint} in ${Date.now() - started} ms (${server.dir})`);
  project.provide('s3', server);
  return stop;
}
