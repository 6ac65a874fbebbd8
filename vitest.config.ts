import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // One radosgw for the whole run (the jobs transport's S3 tests); OKESU_TEST_S3=off skips it for unrelated runs.
    // One PostgreSQL server (the store on Postgres); OKESU_TEST_PG=off skips it.
    globalSetup: ['./test/support/s3-global-setup.ts', './test/support/postgres-global-setup.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
