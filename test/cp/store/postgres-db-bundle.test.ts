import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { PG_WORKER_BUNDLE } from '../../../src/cp/store/sql/postgres-worker-entry.js';
import { testPostgresUrl } from '../../support/postgres.js';

const root = resolve(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'okesu-pg-bundle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('openPostgresDb from a bundle', () => {
  it('starts dist/okesu-pg-worker.mjs beside the bundle that calls it (as dist/okesu.js and the single executable do)', async () => {
    // A bundle of the driver's caller, placed beside the built worker the way dist/okesu.js is (`npm test` builds dist/).
    await build({
      stdin: {
        contents: [
          "import { openPostgresDb } from './src/cp/store/sql/postgres-db.ts';",
          'const db = openPostgresDb(process.argv[2]);',
          "console.log(JSON.stringify(db.prepare('SELECT count(*) AS n, @b::bytea AS b').get({ b: Buffer.from('ok') })));",
          'db.close();',
        ].join('\n'),
        resolveDir: root,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: join(dir, 'okesu.js'),
      logLevel: 'warning',
    });
    copyFileSync(join(root, 'dist', PG_WORKER_BUNDLE), join(dir, PG_WORKER_BUNDLE));
    const database = await testPostgresUrl();
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [join(dir, 'okesu.js'), database.url], { timeout: 30_000 });
      expect(JSON.parse(stdout)).toEqual({ n: 1, b: { type: 'Buffer', data: [...Buffer.from('ok')] } });
    } finally {
      await database.drop();
    }
  });
});
