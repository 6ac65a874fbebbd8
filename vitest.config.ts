import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // One radosgw (the jobs transport's S3 tests), one nats-server (the replicated CP's bus) and one PostgreSQL server
    // (the store on Postgres) for the whole run; OKESU_TEST_S3=off / OKESU_TEST_NATS=off / OKESU_TEST_PG=off skip them.
    globalSetup: ['./test/support/s3-global-setup.ts', './test/support/nats-global-setup.ts', './test/support/postgres-global-setup.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
