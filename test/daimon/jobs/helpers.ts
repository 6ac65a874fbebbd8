import { createPublicKey } from 'node:crypto';
import { createCertificateAuthority } from '../../../src/pki/ca.js';
import type { CaMaterial } from '../../../src/pki/ca.js';
import { generateHostKeyAndCsr } from '../../../src/pki/host-key.js';
import { bucketLayout } from '../../../src/protocol/bucket-layout.js';
import type { BucketLayout } from '../../../src/protocol/bucket-layout.js';
import { exitBodySchema, eventsBodyLineSchema, hostParty } from '../../../src/protocol/bucket-objects.js';
import type { ExitBody } from '../../../src/protocol/bucket-objects.js';
import type { DispatchEnvelope } from '../../../src/protocol/dispatch.js';
import { newId } from '../../../src/protocol/ids.js';
import type { EventRecord } from '../../../src/protocol/tunnel.js';
import type { Bucket } from '../../../src/transport/bucket/bucket.js';
import { createObjectSigner, encodeObject, readObject } from '../../../src/transport/bucket/signed-object.js';
import type { ObjectSigner } from '../../../src/transport/bucket/signed-object.js';
import type { DaimonTransportHandlers } from '../../../src/transport/types.js';

/** A test-side CP: its CA, a signer with the CA key, and the bucket layout. */
export interface TestCp {
  ca: CaMaterial;
  signer: ObjectSigner;
  layout: BucketLayout;
}

/** A CA and its signer over `prefix`. */
export async function testCp(prefix = 'okesu'): Promise<TestCp> {
  const ca = await createCertificateAuthority({ commonName: 'test CA' });
  return { ca, signer: createObjectSigner('cp', ca.keyPem), layout: bucketLayout(prefix) };
}

/** A host's identity as the jobs transport needs it. */
export async function testHost(cp: TestCp, hostname: string): Promise<{ hostname: string; keyPem: string; caPem: string; csrPem: string }> {
  const { keyPem, csrPem } = await generateHostKeyAndCsr(hostname);
  return { hostname, keyPem, caPem: cp.ca.certPem, csrPem };
}

/** A dispatch envelope for a fresh run. */
export function envelope(over: Partial<DispatchEnvelope> = {}): DispatchEnvelope {
  return { run_id: newId('r'), agent: 'echo', prompt: 'hello there', inputs: {}, dispatch: 'jobs', ...over };
}

/** The bytes of a signed job as the CP writes it (overridable: signer, issued/expires, key named in the header). */
export function jobBytes(cp: TestCp, host: string, env: DispatchEnvelope, over: { signer?: ObjectSigner; issuedAt?: number; expiresAt?: number; headerKey?: string } = {}): Buffer {
  const at = over.issuedAt ?? Date.now();
  const key = over.headerKey ?? (cp.layout.relative(cp.layout.job(host, env.run_id)) as string);
  return encodeObject({ kind: 'job', key, to: hostParty(host), issued_at: at, expires_at: over.expiresAt ?? at + 3_600_000 }, [env], over.signer ?? cp.signer);
}

/** Writes a signed job into `host`'s inbox. */
export async function putJob(bucket: Bucket, cp: TestCp, host: string, env: DispatchEnvelope): Promise<void> {
  await bucket.put(cp.layout.job(host, env.run_id), jobBytes(cp, host, env));
}

/** Writes a signed cancel into `host`'s inbox. */
export async function putCancel(bucket: Bucket, cp: TestCp, host: string, runId: string, reason = 'operator cancelled'): Promise<void> {
  const key = cp.layout.cancel(host, runId);
  const at = Date.now();
  await bucket.put(key, encodeObject({ kind: 'cancel', key: cp.layout.relative(key) as string, to: hostParty(host), issued_at: at, expires_at: at + 86_400_000 }, [{ run_id: runId, reason }], cp.signer));
}

/** Reads `host`'s outbox as the CP would: every object verified with the host's key. Throws on anything refused. */
export async function readOutbox(bucket: Bucket, cp: TestCp, host: string, hostKeyPem: string): Promise<{ records: EventRecord[]; exits: ExitBody[] }> {
  const publicKey = createPublicKey(hostKeyPem);
  const records: EventRecord[] = [];
  const exits: ExitBody[] = [];
  let next: string | undefined;
  do {
    const page = await bucket.list(cp.layout.hostOutbox(host), next === undefined ? {} : { continuation: next });
    for (const entry of page.entries) {
      const got = await bucket.get(entry.key, 4 * 1024 * 1024);
      if (!got || got.tooLarge) throw new Error(`cannot read ${entry.key}`);
      const kind = entry.key.endsWith('.exit') ? 'exit' : 'events';
      const read = readObject(got.body, {
        key: cp.layout.relative(entry.key) as string, kind, to: 'cp', now: Date.now(),
        keysOf: (p) => (p === hostParty(host) ? [publicKey] : undefined), from: (p) => p === hostParty(host),
      });
      if (!read.ok) throw new Error(`${entry.key}: ${read.reason}`);
      if (kind === 'exit') exits.push(exitBodySchema.parse(read.object.lines[0]));
      else records.push(...read.object.lines.map((l) => eventsBodyLineSchema.parse(l)));
    }
    next = page.next;
  } while (next !== undefined);
  return { records, exits };
}

/** Handlers that record what a transport drives. */
export function recorder(): DaimonTransportHandlers & { dispatched: DispatchEnvelope[]; cancels: string[]; acks: string[]; ups: number; contacts: number; downs: string[]; fatal: string[] } {
  const r = {
    dispatched: [] as DispatchEnvelope[], cancels: [] as string[], acks: [] as string[], ups: 0, contacts: 0, downs: [] as string[], fatal: [] as string[],
    onContact: () => void r.contacts++,
    onDispatch: (e: DispatchEnvelope) => void r.dispatched.push(e),
    onCancel: (runId: string) => void r.cancels.push(runId),
    onAck: (keys: readonly { run_id: string; seq: number }[]) => void r.acks.push(...keys.map((k) => `${k.run_id}#${k.seq}`)),
    onUp: () => void r.ups++,
    onDown: (reason: string) => void r.downs.push(reason),
    onFatal: (code: string) => void r.fatal.push(code),
  };
  return r;
}

/** An event record of `runId`. */
export function record(runId: string, seq: number, event: Record<string, unknown> = { type: 'text', text: `line ${seq}` }): EventRecord {
  return { run_id: runId, seq, event: { ts: Date.now(), agent: 'echo', ...event } as EventRecord['event'] };
}

/** A bucket whose requests fail while `state.failing` is set (a store that is down). */
export function flaky(bucket: Bucket): { bucket: Bucket; state: { failing: boolean } } {
  const state = { failing: false };
  const guard = <A extends unknown[], R>(fn: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
    if (state.failing) throw new Error('connect ECONNREFUSED (test: the store is down)');
    return fn(...a);
  };
  return {
    state,
    bucket: {
      ...bucket, description: bucket.description, requestCounts: () => bucket.requestCounts(), close: () => bucket.close(),
      put: guard(bucket.put.bind(bucket)), putIfAbsent: guard(bucket.putIfAbsent.bind(bucket)), get: guard(bucket.get.bind(bucket)),
      list: guard(bucket.list.bind(bucket)), delete: guard(bucket.delete.bind(bucket)), deleteMany: guard(bucket.deleteMany.bind(bucket)),
      copy: guard(bucket.copy.bind(bucket)),
    },
  };
}
