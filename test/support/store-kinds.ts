import { afterEach, beforeEach } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../../src/cp/store/store.js';
import { testPostgresUrl } from './postgres.js';

/** The stores the store suite runs on. */
export type StoreKind = 'sqlite' | 'postgres';

/** Every kind, for `describe.each(storeKinds)`. */
export const storeKinds: readonly StoreKind[] = ['sqlite', 'postgres'];

/** A fresh, empty store of one kind, owned by one test. */
export interface TestStore {
  /** The store open now (`reopen` replaces it). */
  store: Store;
  /** Where it lives: a SQLite file path or a PostgreSQL URL (`openStore` takes either). */
  location: string;
  /** Closes the store and opens the same database again (what a CP restart does). */
  reopen(): Store;
  /** Closes the store and removes its database. */
  dispose(): Promise<void>;
}

/** Opens a fresh store of `kind`: SQLite in a new temp dir, PostgreSQL in a new database on the run's test server. */
export async function openTestStore(kind: StoreKind): Promise<TestStore> {
  let remove: () => Promise<void>;
  let location: string;
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'okesu-store-test-'));
    location = join(dir, 'cp.db');
    remove = () => Promise.resolve(rmSync(dir, { recursive: true, force: true }));
  } else {
    const pg = await testPostgresUrl();
    location = pg.url;
    remove = pg.drop;
  }
  const t: TestStore = {
    store: openStore(location),
    location,
    reopen() {
      t.store.close();
      t.store = openStore(location);
      return t.store;
    },
    async dispose() {
      t.store.close();
      await remove();
    },
  };
  return t;
}

/** Opens a fresh store of `kind` before each test of the enclosing block (handed to `opened`) and removes it after. */
export function useTestStore(kind: StoreKind, opened: (t: TestStore) => void): void {
  let current: TestStore | undefined;
  beforeEach(async () => {
    current = await openTestStore(kind);
    opened(current);
  });
  afterEach(async () => {
    await current?.dispose();
    current = undefined;
  });
}
