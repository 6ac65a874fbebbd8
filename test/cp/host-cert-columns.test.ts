import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/cp/store/store.js';
import { SCHEMA_V1, SCHEMA_V2, SCHEMA_V3 } from '../../src/cp/store/schema.js';
import { openTestStore, storeKinds, type TestStore } from '../support/store-kinds.js';

let dir: string | undefined;
let store: Store | undefined;
afterEach(() => {
  store?.close();
  store = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const DAY = 86_400_000;
const host = (hostname: string, serial: string) => ({
  hostname, cert_serial: serial, credential_id: `c-${hostname}`, credential_hash: 'h', os: 'linux', arch: 'x64', version: '1', labels: {}, registered_at: 1000,
});

describe('host certificate columns (schema v4)', () => {
  it('backfills hosts registered before it with 365 days from registration', () => {
    dir = mkdtempSync(join(tmpdir(), 'okesu-hostcert-'));
    const Sqlite = createRequire(import.meta.url)('better-sqlite3') as typeof Database;
    const old = new Sqlite(join(dir, 'cp.db'));
    old.exec(SCHEMA_V1);
    old.exec(SCHEMA_V2);
    old.exec(SCHEMA_V3);
    old.pragma('user_version = 3');
    old.prepare("INSERT INTO hosts (hostname, cert_serial, credential_id, credential_hash, registered_at) VALUES ('old', 'aa', 'c1', 'h', 5000)").run();
    old.close();
    store = openStore(join(dir, 'cp.db'));
    expect(store.hosts.get('old')).toMatchObject({ cert_issued_at: 5000, cert_not_after: 5000 + 365 * DAY, cert_serial_prev: null });
  });
});

describe.each(storeKinds)('host certificate renewal (%s)', (kind) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore(kind);
  });
  afterEach(() => t.dispose());

  it('renews by compare-and-set on the serial the tunnel presented, and settles once the new one is used', () => {
    const store = t.store;
    store.hosts.insert({ ...host('web-01', 'aa'), cert_issued_at: 1000, cert_not_after: 1000 + DAY });
    const id = store.hosts.get('web-01')!.id;
    expect(store.hosts.renewCert(id, 'zz', { serial: 'bb', issuedAt: 2000, notAfter: 2000 + DAY })).toBe(false);
    expect(store.hosts.renewCert(id, 'aa', { serial: 'bb', issuedAt: 2000, notAfter: 2000 + DAY })).toBe(true);
    expect(store.hosts.get('web-01')).toMatchObject({ cert_serial: 'bb', cert_serial_prev: 'aa', cert_issued_at: 2000, cert_not_after: 2000 + DAY });
    // The answer was lost: the old certificate renews again; the unused one is dropped.
    expect(store.hosts.renewCert(id, 'aa', { serial: 'cc', issuedAt: 3000, notAfter: 3000 + DAY })).toBe(true);
    expect(store.hosts.get('web-01')).toMatchObject({ cert_serial: 'cc', cert_serial_prev: 'aa' });
    store.hosts.settleRenewal(id, 'cc');
    expect(store.hosts.get('web-01')).toMatchObject({ cert_serial: 'cc', cert_serial_prev: null });
    store.hosts.revoke('web-01', 4000);
    expect(store.hosts.renewCert(id, 'cc', { serial: 'dd', issuedAt: 4000, notAfter: 4000 + DAY })).toBe(false);
  });

  it('names every live host and no revoked one', () => {
    const store = t.store;
    store.hosts.insert({ ...host('web-01', 'aa'), cert_issued_at: 1000, cert_not_after: 1000 + DAY });
    store.hosts.insert({ ...host('web-02', 'ab'), cert_issued_at: 1000, cert_not_after: 1000 + DAY });
    store.hosts.insert({ ...host('web-03', 'ac'), cert_issued_at: 1000, cert_not_after: 1000 + DAY });
    store.hosts.revoke('web-02', 2000);
    expect(store.hosts.names().sort()).toEqual(['web-01', 'web-03']);
    expect(store.hosts.names().sort()).toEqual(store.hosts.list().map((h) => h.hostname).sort());
  });
});
