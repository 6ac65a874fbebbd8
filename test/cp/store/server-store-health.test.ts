import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServerStoreHealth, isStoreFailure } from '../../../src/cp/store/store-health.js';
import { openPostgresDb, type PostgresDb } from '../../../src/cp/store/sql/postgres-db.js';
import { testPostgresUrl, type TestPostgresDatabase } from '../../support/postgres.js';

const withCode = (code: string): Error => Object.assign(new Error(`failed (${code})`), { code });

describe('store failures on PostgreSQL', () => {
  it.each([
    ['57014', true], // statement timeout
    ['55P03', true], // lock not available
    ['08006', true], // connection failure
    ['53100', true], // disk full
    ['40P01', true], // deadlock
    ['23505', false], // unique violation: the statement is wrong, not the store
    ['42P01', false], // undefined table
  ])('SQLSTATE %s is a store failure: %s', (code, failure) => {
    expect(isStoreFailure(withCode(code))).toBe(failure);
  });

  it('reports an outage once, maps it to OKS_ERR_STORE_UNAVAILABLE, ends it on success, and has no file to check', () => {
    const health = createServerStoreHealth('postgres://db/okesu', { log: pino({ level: 'silent' }) });
    health.check();
    health.assertWritable();
    expect(health.failed(withCode('23505'), 'api')).toBeUndefined();
    expect(health.failed(withCode('57014'), 'api')?.code).toBe('OKS_ERR_STORE_UNAVAILABLE');
    expect(health.state()).toBe('unavailable');
    expect(health.failures('api')).toBe(1);
    health.succeeded('api');
    expect(health.state()).toBe('ok');
  });

  describe('from a real server', () => {
    let pg: TestPostgresDatabase;
    let db: PostgresDb;
    beforeEach(async () => {
      pg = await testPostgresUrl();
      db = openPostgresDb(pg.url, { statementTimeoutMs: 50 });
    });
    afterEach(async () => {
      db.close();
      await pg.drop();
    });

    it('a statement cut by the statement timeout is a store failure; a bad statement is not', () => {
      const thrown = (fn: () => unknown): unknown => {
        try {
          fn();
        } catch (err) {
          return err;
        }
        throw new Error('expected a throw');
      };
      expect(isStoreFailure(thrown(() => db.prepare('SELECT pg_sleep(1)').get()))).toBe(true);
      expect(isStoreFailure(thrown(() => db.prepare('SELECT * FROM no_such_table').get()))).toBe(false);
    });
  });
});
