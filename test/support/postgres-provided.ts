declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's PostgreSQL superuser URL (test/support/postgres-global-setup.ts); null with OKESU_TEST_PG=off. */
    postgresAdminUrl: string | null;
  }
}

export {};
