import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type Server, type TLSSocket } from 'node:tls';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { clusterKeyFrom, type ClusterKey } from '../../../src/cp/cluster/cluster-key.js';
import { loadOrCreateSharedIdentity, SHARED_META, type SharedIdentity, type SharedMeta } from '../../../src/cp/cluster/shared-identity.js';
import { ensureSharedAdminToken, ADMIN_TOKEN_ISSUED_KEY } from '../../../src/cp/cluster/shared-admin-token.js';
import { ensureAdminToken } from '../../../src/cp/cp-state.js';
import { openStore, type Store } from '../../../src/cp/store/store.js';
import type { OkesuError } from '../../../src/errors.js';

const log = pino({ level: 'silent' });
const KEY = clusterKeyFrom(Buffer.alloc(32, 0x5a));
const NOW = Date.now();
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/** One "replica": its own handle on the shared store file, and setIfAbsent as the Postgres store will give it. */
interface Replica {
  store: Store;
  meta: SharedMeta;
  load(opts?: { key?: ClusterKey; sans?: string[] }): Promise<SharedIdentity>;
}

function sharedStoreFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'okesu-shared-identity-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'cp.db');
}

function replica(path: string): Replica {
  const store = openStore(path);
  cleanups.push(() => store.close());
  const meta: SharedMeta = {
    get: (key) => store.meta.get(key),
    setIfAbsent: (key, value) =>
      store.transaction(() => {
        const existing = store.meta.get(key);
        if (existing !== undefined) return existing;
        store.meta.set(key, value);
        return value;
      }),
  };
  return {
    store,
    meta,
    load: (opts = {}) => loadOrCreateSharedIdentity({ meta, clusterKey: opts.key ?? KEY, sans: opts.sans ?? ['cp.example.test', '10.0.0.10'], now: NOW, log }),
  };
}

async function refusal(p: Promise<unknown>): Promise<OkesuError> {
  try {
    await p;
  } catch (err) {
    return err as OkesuError;
  }
  throw new Error('did not fail');
}

function expectSame(a: SharedIdentity, b: SharedIdentity): void {
  expect(b.identity.ca.certPem).toBe(a.identity.ca.certPem);
  expect(b.identity.ca.keyPem).toBe(a.identity.ca.keyPem);
  expect(b.identity.server.certPem).toBe(a.identity.server.certPem);
  expect(b.identity.server.keyPem).toBe(a.identity.server.keyPem);
  expect(b.identity.caPin).toBe(a.identity.caPin);
  for (const at of [NOW, NOW + 3_600_000, NOW + 86_400_000 * 3]) expect(b.ticketKeys.keysAt(at).equals(a.ticketKeys.keysAt(at))).toBe(true);
}

describe('shared identity of a replicated CP', () => {
  it('two replicas on one store get byte-identical CA, server certificate and ticket keys; only the first creates them', async () => {
    const path = sharedStoreFile();
    const a = await replica(path).load();
    const b = await replica(path).load();
    expect(a.created).toBe(true);
    expect(b.created).toBe(false);
    expectSame(a, b);
    // A restart of the first replica loads what it made.
    expectSame(a, await replica(path).load());
  });

  it('issues the server certificate from the shared CA for the --san names and loopback, not for this machine', async () => {
    const { identity } = await replica(sharedStoreFile()).load();
    const cert = new X509Certificate(identity.server.certPem);
    const ca = new X509Certificate(identity.ca.certPem);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkHost('cp.example.test')).toBe('cp.example.test');
    expect(cert.checkIP('10.0.0.10')).toBe('10.0.0.10');
    expect(cert.checkHost('localhost')).toBe('localhost');
    if (hostname() !== 'localhost') expect(cert.checkHost(hostname())).toBeUndefined();
  });

  it('gives a replica started with other --san its own server certificate from the same CA', async () => {
    const path = sharedStoreFile();
    const a = await replica(path).load();
    const b = await replica(path).load({ sans: ['cp2.example.test'] });
    expect(b.identity.ca.certPem).toBe(a.identity.ca.certPem);
    expect(b.identity.server.certPem).not.toBe(a.identity.server.certPem);
    expect(new X509Certificate(b.identity.server.certPem).checkHost('cp2.example.test')).toBe('cp2.example.test');
    expect(new X509Certificate(b.identity.server.certPem).checkIssued(new X509Certificate(a.identity.ca.certPem))).toBe(true);
  });

  it('a concurrent first start (two replicas at once) yields one identity', async () => {
    const path = sharedStoreFile();
    const [a, b] = await Promise.all([replica(path).load(), replica(path).load()]);
    expectSame(a, b);
    expect([a.created, b.created].filter(Boolean)).toHaveLength(1);
  });

  it('refuses a replica whose cluster key is not the one that initialised the store', async () => {
    const path = sharedStoreFile();
    await replica(path).load();
    const err = await refusal(replica(path).load({ key: clusterKeyFrom(Buffer.alloc(32, 0x11)) }));
    expect(err.code).toBe('OKS_ERR_CLUSTER_KEY');
    expect(err.message).toContain("this replica's cluster key does not match the one that initialised the store");
    expect(err.message).toContain('--cluster-key-file');
  });

  it.each([
    ['a flipped bit in the sealed CA key', (r: CaRecord): CaRecord => ({ ...r, key: `${r.key.slice(0, -2)}${r.key.endsWith('A') ? 'B' : 'A'}${r.key.slice(-1)}` })],
    ['a changed CA certificate beside the sealed key', (r: CaRecord): CaRecord => ({ ...r, cert: r.cert.replace('-----END CERTIFICATE-----', '-----END CERTIFICATE-----\n') })],
    ['a sealed key moved from another record', (r: CaRecord, server: CaRecord): CaRecord => ({ ...r, key: server.key })],
  ])('refuses a tampered store value: %s', async (_name, tamper) => {
    const path = sharedStoreFile();
    const first = replica(path);
    await first.load();
    const serverKey = (first.store.db.prepare("SELECT key FROM meta WHERE key LIKE 'cluster.server.%'").get() as { key: string }).key;
    const record = JSON.parse(first.store.meta.get(SHARED_META.ca) as string) as CaRecord;
    const server = JSON.parse(first.store.meta.get(serverKey) as string) as CaRecord;
    first.store.meta.set(SHARED_META.ca, JSON.stringify(tamper(record, server)));
    const err = await refusal(replica(path).load());
    expect(err.code).toBe('OKS_ERR_CLUSTER_KEY');
    expect(err.message).toContain('cannot open the sealed value cluster.ca');
  });

  it('refuses to make a new CA for a store that has registered hosts but lost its CA record', async () => {
    const path = sharedStoreFile();
    const first = replica(path);
    await first.load();
    first.store.db.prepare('DELETE FROM meta WHERE key = ?').run(SHARED_META.ca);
    const r = replica(path);
    const err = await refusal(loadOrCreateSharedIdentity({ meta: r.meta, clusterKey: KEY, sans: [], now: NOW, log, hostsRegistered: true }));
    expect(err.code).toBe('OKS_ERR_STATE_INCOMPLETE');
    expect(r.meta.get(SHARED_META.ca)).toBeUndefined();
  });

  it('keeps no private key or ticket secret in the store in the clear', async () => {
    const path = sharedStoreFile();
    const r = replica(path);
    const { identity, ticketKeys } = await r.load();
    const rows = r.store.db.prepare("SELECT key, value FROM meta WHERE key LIKE 'cluster.%'").all() as { key: string; value: string }[];
    expect(rows.map((row) => row.key).sort()).toEqual(expect.arrayContaining([SHARED_META.ca, SHARED_META.keyId, SHARED_META.ticketSecret]));
    const keyBodies = [identity.ca.keyPem, identity.server.keyPem].map((pem) => pem.split('\n').filter((l) => l && !l.startsWith('-----')).join(''));
    for (const row of rows) {
      expect(row.value).not.toContain('PRIVATE KEY');
      for (const body of keyBodies) {
        expect(row.value).not.toContain(body.slice(0, 40));
        expect(row.value.replace(/\\n/g, '')).not.toContain(body.slice(20, 60));
      }
      expect(row.value).not.toContain(ticketKeys.keysAt(NOW).toString('base64'));
    }
  });

  it('derives ticket keys per period: 48 bytes, the same within a period, new in the next', async () => {
    const { ticketKeys } = await replica(sharedStoreFile()).load();
    const start = ticketKeys.periodStart(NOW);
    expect(ticketKeys.keysAt(start)).toHaveLength(48);
    expect(ticketKeys.keysAt(start + ticketKeys.periodMs - 1).equals(ticketKeys.keysAt(start))).toBe(true);
    expect(ticketKeys.keysAt(start + ticketKeys.periodMs).equals(ticketKeys.keysAt(start))).toBe(false);
  });

  it('a TLS session made with one replica resumes on the other', async () => {
    const path = sharedStoreFile();
    const [a, b] = [await replica(path).load(), await replica(path).load()];
    const [portA, portB] = [await tlsServer(a), await tlsServer(b)];
    const first = await handshake(portA, a.identity.ca.certPem);
    expect(first.reused).toBe(false);
    expect(first.session).toBeDefined();
    const resumed = await handshake(portB, a.identity.ca.certPem, first.session);
    expect(resumed.reused).toBe(true);
    // A server with other ticket keys (another period) does not resume it.
    const portC = await tlsServer({ ...b, ticketKeys: { ...b.ticketKeys, keysAt: (at) => b.ticketKeys.keysAt(at + b.ticketKeys.periodMs) } });
    expect((await handshake(portC, a.identity.ca.certPem, first.session)).reused).toBe(false);
  });
});

describe('the first admin token on a replicated CP', () => {
  it('is created by one replica only; the others get nothing to write', () => {
    const path = sharedStoreFile();
    const [a, b] = [replica(path), replica(path)];
    const tokens = [ensureSharedAdminToken(a.store, a.meta, NOW), ensureSharedAdminToken(b.store, b.meta, NOW), ensureSharedAdminToken(a.store, a.meta, NOW)];
    expect(tokens[0]).toMatch(/^okt_/);
    expect(tokens.slice(1)).toEqual([undefined, undefined]);
    expect(b.store.db.prepare("SELECT count(*) AS n FROM tokens WHERE role = 'admin'").get()).toEqual({ n: 1 });
    expect(b.meta.get(ADMIN_TOKEN_ISSUED_KEY)).toBeDefined();
  });

  it('is not created again where the record is missing but an admin token exists (a store from a single CP)', () => {
    const r = replica(sharedStoreFile());
    expect(ensureAdminToken(r.store, NOW)).toBeDefined();
    expect(ensureSharedAdminToken(r.store, r.meta, NOW)).toBeUndefined();
    expect(r.meta.get(ADMIN_TOKEN_ISSUED_KEY)).toBeUndefined();
  });

  it('is claimed and created in one transaction: a replica that fails in between leaves no claim, and the next start creates it', () => {
    const path = sharedStoreFile();
    const [a, b] = [replica(path), replica(path)];
    // A replica that claims and then fails before committing leaves no claim behind.
    expect(() =>
      a.store.transaction(() => {
        ensureSharedAdminToken(a.store, a.meta, NOW);
        throw new Error('crash before commit');
      }),
    ).toThrow('crash before commit');
    expect(b.meta.get(ADMIN_TOKEN_ISSUED_KEY)).toBeUndefined();
    expect(ensureSharedAdminToken(b.store, b.meta, NOW)).toMatch(/^okt_/);
  });
});

interface CaRecord {
  cert: string;
  key: string;
}

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function tlsServer(shared: SharedIdentity): Promise<number> {
  const srv = createServer({
    key: shared.identity.server.keyPem, cert: shared.identity.server.certPem,
    ticketKeys: shared.ticketKeys.keysAt(Date.now()), minVersion: 'TLSv1.2',
  }, (socket) => socket.end('hello'));
  servers.push(srv);
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return (srv.address() as { port: number }).port;
}

/** Connects, reads to the end, and returns the session ticket the server gave (if any) and whether the session was resumed. */
function handshake(port: number, ca: string, session?: Buffer): Promise<{ session: Buffer | undefined; reused: boolean }> {
  return new Promise((resolve, reject) => {
    let ticket: Buffer | undefined;
    let reused = false;
    const socket: TLSSocket = connect({ port, host: '127.0.0.1', servername: 'cp.example.test', ca: [ca], ...(session && { session }) });
    socket.on('secureConnect', () => (reused = socket.isSessionReused()));
    socket.on('session', (s: Buffer) => (ticket = s));
    socket.on('error', reject);
    socket.on('data', () => undefined);
    // The ticket (TLS 1.3) may arrive after the data: the result is read once the socket has closed.
    socket.on('close', () => resolve({ session: ticket, reused }));
  });
}
