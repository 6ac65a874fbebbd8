import { beforeAll, describe, expect, it } from 'vitest';
import { ensureIdentity } from '../../../daimon/registration.js';
import { loadIdentity } from '../../../daimon/identity.js';
import { createCertificateAuthority } from '../../../src/pki/ca.js';
import type { CaMaterial } from '../../../src/pki/ca.js';
import { bucketLayout } from '../../../src/protocol/bucket-layout.js';
import { createMemoryBucket } from '../../../src/transport/bucket/memory-bucket.js';
import type { Bucket } from '../../../src/transport/bucket/bucket.js';
import { captureLogger, tempDir } from '../core/helpers.js';
import { answerRegistrations, joinToken } from './fake-answerer.js';
import type { AnswerMode } from './fake-answerer.js';

let ca: CaMaterial;
let other: CaMaterial;
const layout = bucketLayout('fleet');

beforeAll(async () => {
  ca = await createCertificateAuthority({ commonName: 'test CA' });
  other = await createCertificateAuthority({ commonName: 'another CA' });
});

/** Registers through `bucket` while a fake CP answers in `mode` until the registration settles. */
async function register(mode: AnswerMode, timeoutMs = 1500): Promise<{ state: string; result: PromiseSettledResult<Awaited<ReturnType<typeof ensureIdentity>>>; credential?: string; bucket: Bucket }> {
  const bucket = createMemoryBucket();
  const state = tempDir('breg');
  const { token, secretHash } = joinToken(ca);
  let settled = false;
  const registering = ensureIdentity(
    { stateDir: state, token, hostname: 'bucket-host', version: '1.0.0', labels: { env: 'test' }, bucket: { bucket, prefix: 'fleet', url: 's3://okesu-test/fleet', pollMs: 20, timeoutMs } },
    captureLogger().log,
  );
  // Settled-watching at once: a rejection must not count as unhandled while the answerer loop runs.
  const outcome = Promise.allSettled([registering]).finally(() => (settled = true));
  let credential: string | undefined;
  while (!settled) {
    const answered = await answerRegistrations(bucket, layout, ca, secretHash, mode, other);
    credential ??= answered.credential;
    await new Promise((r) => setTimeout(r, 10));
  }
  const [result] = await outcome;
  return { state, result: result as PromiseSettledResult<Awaited<ReturnType<typeof ensureIdentity>>>, bucket, ...(credential !== undefined && { credential }) };
}

describe('registration through the bucket (memory bucket, fake CP answerer)', () => {
  it('registers: the answer verified against the pin, the credential unsealed, the identity saved with the bucket as its cp, the answer deleted', async () => {
    const { state, result, credential, bucket } = await register('grant', 10_000);
    expect(result.status).toBe('fulfilled');
    const stored = loadIdentity(state);
    expect(stored).toMatchObject({ cp: 's3://okesu-test/fleet', hostname: 'bucket-host', caPem: ca.certPem, credential });
    expect((await bucket.list(layout.registrations())).entries).toEqual([]);
  });

  it('turns a refusal into the CP’s error', async () => {
    const { state, result } = await register('refuse', 10_000);
    expect(result.status).toBe('rejected');
    expect((result as PromiseRejectedResult).reason).toMatchObject({ code: 'OKS_ERR_TOKEN_EXHAUSTED', message: 'join token has no uses left (test)' });
    expect(loadIdentity(state)).toBeUndefined();
  });

  it.each([
    ['wrong-ca' as const, 'the join token pins'],
    ['wrong-signature' as const, 'signature does not verify'],
  ])('refuses an answer with the %s and times out naming the bucket, the request and why', async (mode, why) => {
    const { state, result } = await register(mode);
    expect(result.status).toBe('rejected');
    const err = (result as PromiseRejectedResult).reason as Error & { code: string };
    expect(err.code).toBe('OKS_ERR_CP_UNREACHABLE');
    expect(err.message).toContain('memory://');
    expect(err.message).toContain('fleet/reg/bucket-host/');
    expect(err.message).toContain(why);
    expect(loadIdentity(state)).toBeUndefined();
  });

  it('without a bucket or a CP, says how to register', async () => {
    await expect(ensureIdentity({ stateDir: tempDir('none'), token: 'okj_x', version: '1' }, captureLogger().log)).rejects.toThrow(/--bucket s3:\/\//);
  });
});
