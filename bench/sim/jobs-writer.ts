/**
 * The sim-only stand-in for the CP's dispatch in jobs mode: a CA key of the bench's own signs one job per host and
 * PUTs it into each inbox, as the CP does (job = the dispatch envelope, to `host:<name>`, expiring after the run's
 * timeout + 60 s). Used when the CP under test has no bucket transport yet, so the hosts' side can be measured alone.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { BucketLayout } from '../../src/protocol/bucket-layout.js';
import { hostParty } from '../../src/protocol/bucket-objects.js';
import { newIds } from '../../src/protocol/ids.js';
import type { Bucket } from '../../src/transport/bucket/bucket.js';
import { createObjectSigner, encodeObject, type ObjectSigner } from '../../src/transport/bucket/signed-object.js';

/** A CA key pair for the sim-only mode: the signer of jobs and the public key the hosts verify with. */
export function benchCa(): { signer: ObjectSigner; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    signer: createObjectSigner('cp', privateKey.export({ type: 'pkcs8', format: 'pem' }) as string),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
  };
}

/** Writes one job for each host (`concurrency` PUTs in flight); resolves with the run ids and the time the last PUT answered. */
export async function writeJobs(
  bucket: Bucket, layout: BucketLayout, signer: ObjectSigner, hosts: readonly string[], agent: string, timeoutMs: number, concurrency = 32,
): Promise<{ runIds: string[]; lastPutAt: number }> {
  const runIds = newIds('r', Date.now(), hosts.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < hosts.length) {
      const i = next++;
      const host = hosts[i] as string;
      const runId = runIds[i] as string;
      const now = Date.now();
      const key = layout.job(host, runId);
      const envelope = { run_id: runId, agent, prompt: '', inputs: {}, timeout_ms: timeoutMs, dispatch: 'jobs' };
      await bucket.put(key, encodeObject({ kind: 'job', key: layout.relative(key) ?? key, to: hostParty(host), issued_at: now, expires_at: now + timeoutMs + 60_000 }, [envelope], signer));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, hosts.length) }, worker));
  return { runIds, lastPutAt: Date.now() };
}
