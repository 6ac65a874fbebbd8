import { copyFileSync, existsSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { createRequire } from 'node:module';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createControlPlane } from '../../src/cp/cp-server.js';
import { createProgram } from '../../src/cli/program.js';
import type { OkesuError } from '../../src/errors.js';
import { SCHEMA_VERSION } from '../../src/cp/store/database.js';
import { testDeps } from '../cli/helpers.js';
import { errorCode, findingRecord, sendEvents, startCp, waitFor, type CpHarness } from './cp-harness.js';

const SqliteDatabase = createRequire(import.meta.url)('better-sqlite3') as typeof Database;

async function cli(args: string[]) {
  const deps = testDeps({ env: { PATH: process.env.PATH }, now: Date.now });
  let code = 0;
  try {
    await createProgram(deps).parseAsync(['node', 'okesu', ...args]);
  } catch (err) {
    code = (err as { exitCode?: number }).exitCode ?? 1;
  }
  return { code, out: deps.stdout.text(), err: deps.stderr.text() };
}

/** Starts a CP on `stateDir` without the harness (which needs admin.yaml); resolves to the error it refuses with. */
async function startRefusal(stateDir: string): Promise<OkesuError> {
  const cp = createControlPlane({ stateDir, host: '127.0.0.1', port: 0, version: 'test' }, { log: pino({ level: 'silent' }) });
  try {
    await cp.start();
  } catch (err) {
    return err as OkesuError;
  }
  await cp.stop();
  throw new Error('the CP started');
}

const harnesses: CpHarness[] = [];
const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'okesu-state-'));
  dirs.push(d);
  return d;
};
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const boot = async (stateDir?: string): Promise<CpHarness> => {
  const h = await startCp(stateDir ? { stateDir } : {});
  harnesses.push(h);
  return h;
};

describe('an incomplete state directory', () => {
  it('is refused at start when the database is gone, saying what is missing and how to restore — no silent first start', async () => {
    const h = await boot();
    await h.cp.stop();
    for (const f of ['cp.db', 'cp.db-wal', 'cp.db-shm']) rmSync(join(h.stateDir, f), { force: true });
    const adminBefore = statSync(join(h.stateDir, 'admin.yaml')).mtimeMs;

    const err = await startRefusal(h.stateDir);
    expect(err.code).toBe('OKS_ERR_STATE_INCOMPLETE');
    expect(err.message).toContain('no cp.db');
    expect(err.message).toContain('hosts, tokens and findings are missing');
    expect(err.message).toContain(`okesu cp restore --state ${h.stateDir}`);
    expect(existsSync(join(h.stateDir, 'cp.db'))).toBe(false);
    expect(statSync(join(h.stateDir, 'admin.yaml')).mtimeMs).toBe(adminBefore);
  });

  it('is refused at start when the CA is gone but the database is there', async () => {
    const h = await boot();
    await h.cp.stop();
    rmSync(join(h.stateDir, 'ca.key'));
    const err = await startRefusal(h.stateDir);
    expect(err.code).toBe('OKS_ERR_STATE_INCOMPLETE');
    expect(err.message).toContain('not the CA (ca.crt and ca.key)');
    expect(existsSync(join(h.stateDir, 'ca.key'))).toBe(false);
  });
});

describe('okesu cp backup and restore', () => {
  it('backs up a running CP; restored into a fresh state dir, the CP has the same hosts, tokens and findings, and the old admin token and daimon credentials work', { timeout: 60_000 }, async () => {
    const h = await boot();
    const identity = await h.registerHost('web-01');
    const viewer = await h.mintOperator('viewer', 'auditor');
    const tunnel = await h.connectHost(identity);
    const run = await h.admin.createRun({ agent: 'edr', host: 'web-01' });
    await sendEvents(tunnel, [findingRecord(run.run_id, 1), findingRecord(run.run_id, 2)]);
    const backup = join(tempDir(), 'cp-backup.db');

    const b = await cli(['cp', 'backup', '--state', h.stateDir, '--out', backup, '--json']);
    expect(b.err).toBe('');
    expect(b.code).toBe(0);
    expect(JSON.parse(b.out)).toMatchObject({ file: backup, schema_version: SCHEMA_VERSION, hosts: 1, findings: 2 });
    expect(statSync(backup).mode & 0o777).toBe(0o600);
    // The CP kept serving writes during and after the backup.
    expect((await h.request('POST', '/v1/tokens', { json: { kind: 'operator', role: 'viewer', name: 'later' } })).status).toBe(201);

    // A fresh state dir: the CA and admin.yaml are copied from the original (they are not in the database backup).
    const fresh = join(tempDir(), 'cp');
    const r = await cli(['cp', 'restore', '--state', fresh, backup]);
    expect(r.code).toBe(0);
    expect(r.err).toContain('has no CA');
    expect(statSync(join(fresh, 'cp.db')).mode & 0o777).toBe(0o600);
    expect((await startRefusal(fresh)).code).toBe('OKS_ERR_STATE_INCOMPLETE');
    for (const f of ['ca.crt', 'ca.key', 'admin.yaml']) copyFileSync(join(h.stateDir, f), join(fresh, f));

    const h2 = await boot(fresh);
    expect(h2.adminConfig.token).toBe(h.adminConfig.token);
    expect(await h2.admin.whoami()).toMatchObject({ name: 'admin', role: 'admin' });
    expect((await h2.admin.hosts()).map((x) => x.hostname)).toEqual(['web-01']);
    expect((await h2.admin.listTokens()).map((t) => t.name)).toContain('auditor');
    expect((await h2.admin.listTokens()).map((t) => t.name)).not.toContain('later');
    expect(await h2.client(viewer.token).whoami()).toMatchObject({ name: 'auditor', role: 'viewer' });
    expect((await h2.admin.findingsSummary()).total).toBe(2);
    // The daimon's certificate and credential are accepted: the fleet is not locked out.
    const again = await h2.openTunnel(identity);
    expect(again.ok).toBe(true);
  });

  it('refuses to restore while a CP runs on the state dir, and leaves its database alone', async () => {
    const h = await boot();
    const backup = join(tempDir(), 'b.db');
    expect((await cli(['cp', 'backup', '--state', h.stateDir, '--out', backup])).code).toBe(0);
    const ino = statSync(join(h.stateDir, 'cp.db')).ino;

    const r = await cli(['cp', 'restore', '--state', h.stateDir, backup]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('OKS_ERR_STATE_IN_USE');
    expect(statSync(join(h.stateDir, 'cp.db')).ino).toBe(ino);
    expect(h.cp.store().health.state()).toBe('ok');

    // Stopped, the same restore goes through and keeps the database it replaces.
    await h.cp.stop();
    const ok = await cli(['cp', 'restore', '--state', h.stateDir, backup, '--json']);
    expect(ok.code).toBe(0);
    const previous = (JSON.parse(ok.out) as { previous: string }).previous;
    expect(existsSync(previous)).toBe(true);
    await h.boot();
  });

  it('refuses a second CP on the same state dir', async () => {
    const h = await boot();
    expect((await startRefusal(h.stateDir)).code).toBe('OKS_ERR_STATE_IN_USE');
  });

  const badFiles: { name: string; make(path: string): void; says: string }[] = [
    { name: 'a text file', make: (p) => writeFileSync(p, 'not a database at all, just some text that is long enough'.repeat(20)), says: 'is not an SQLite database' },
    { name: 'another SQLite database', make: (p) => new SqliteDatabase(p).exec('CREATE TABLE t (x)').close(), says: 'is not an Okesu CP database' },
    {
      name: 'a database from a newer okesu',
      make: (p) => {
        const db = new SqliteDatabase(p);
        db.exec("CREATE TABLE meta (k); CREATE TABLE hosts (k); CREATE TABLE tokens (k); CREATE TABLE runs (k); CREATE TABLE events (k); CREATE TABLE findings (k); CREATE TABLE feed (k); CREATE TABLE audit (k)");
        db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
        db.close();
      },
      says: 'newer than this okesu understands',
    },
    { name: 'a missing file', make: () => undefined, says: 'does not exist' },
  ];
  for (const bad of badFiles) {
    it(`refuses to restore ${bad.name}, writing nothing`, async () => {
      const dir = tempDir();
      const file = join(dir, 'input.db');
      bad.make(file);
      const state = join(dir, 'state');
      const r = await cli(['cp', 'restore', '--state', state, file]);
      expect(r.code).toBe(1);
      expect(r.err).toContain('OKS_ERR_STATE_INCOMPLETE');
      expect(r.err).toContain(bad.says);
      expect(existsSync(join(state, 'cp.db'))).toBe(false);
    });
  }
});

describe('a database file removed or replaced under a running CP', () => {
  const cases: { name: string; how: string; act(stateDir: string, spare: string): void }[] = [
    { name: 'deleted', how: 'removed', act: (s) => rmSync(join(s, 'cp.db')) },
    { name: 'replaced by another file', how: 'replaced', act: (s, spare) => renameSync(spare, join(s, 'cp.db')) },
  ];
  for (const c of cases) {
    it(`is noticed within a bound when ${c.name}: writes answer 503 OKS_ERR_STORE_REPLACED, events are not acknowledged, reads go on`, { timeout: 30_000 }, async () => {
      const h = await boot();
      const identity = await h.registerHost('web-01');
      const tunnel = await h.connectHost(identity);
      const run = await h.admin.createRun({ agent: 'edr', host: 'web-01' });
      const spare = join(tempDir(), 'spare.db');
      expect((await cli(['cp', 'backup', '--state', h.stateDir, '--out', spare])).code).toBe(0);

      const at = Date.now();
      c.act(h.stateDir, spare);
      // The harness flushes liveness every 50 ms (a CP: every second); the check rides on that flush.
      await waitFor(() => h.cp.store().health.state() === 'replaced', 2000, 'the CP noticing its database file changed');
      expect(Date.now() - at).toBeLessThan(2000);

      const create = await h.request('POST', '/v1/tokens', { json: { kind: 'operator', role: 'viewer', name: 'x' } });
      expect(create.status).toBe(503);
      expect(errorCode(create.body)).toBe('OKS_ERR_STORE_REPLACED');
      expect((await h.request('GET', '/v1/hosts')).status).toBe(200);
      tunnel.send({ type: 'events', records: [findingRecord(run.run_id, 1)] });
      await waitFor(() => h.cp.store().health.failures('ingest') >= 1, 5000, 'the ingest refused');
      expect(tunnel.ofType('ack')).toEqual([]);
    });
  }
});
