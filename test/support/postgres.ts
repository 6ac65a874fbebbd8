import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import './postgres-provided.js';

export { startPostgresServer, type StartedPostgresServer } from './postgres-server.js';

/** The run's PostgreSQL superuser URL (started once by postgres-global-setup.ts). */
export function postgresAdminUrl(): string {
  const url = inject('postgresAdminUrl');
  if (!url) throw new Error('this test needs the PostgreSQL test server, and the run was started with OKESU_TEST_PG=off');
  return url;
}

/** A fresh database on the test server; `drop()` removes it (ending any session still on it). */
export interface TestPostgresDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Creates `okesu_t_<random>` on the run's server (or the server at `adminUrl`) and returns its URL. */
export async function testPostgresUrl(adminUrl: string = postgresAdminUrl()): Promise<TestPostgresDatabase> {
  const name = `okesu_t_${randomBytes(6).toString('hex')}`;
  await admin(adminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function admin(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
