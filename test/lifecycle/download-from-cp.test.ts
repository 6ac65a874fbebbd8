import { readFileSync, truncateSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadArtifact, sha256File } from '../../daimon/lifecycle/download-artifact.js';
import { generateReleaseKey } from '../../src/release/release-signing.js';
import { startCp, type CpHarness, type HostIdentity } from '../cp/cp-harness.js';
import { signedArtifact, uploadRelease } from '../cp/release-helpers.js';

// The daimon's downloader against the CP's own route (src/cp/api/release-routes.ts), not a stand-in.

const key = generateReleaseKey();
let cp: CpHarness;
let host: HostIdentity;
const release = signedArtifact(key, '2.0.0', 200_000);
beforeAll(async () => {
  cp = await startCp({ options: { releaseKeys: [key.publicKey] } });
  expect((await uploadRelease(cp, release.bytes, { signed: release.signed })).status).toBe(201);
  host = await cp.registerHost('dl-01');
});
afterAll(() => cp.close());

describe('downloading a release from the CP', () => {
  it('downloads with the host certificate and credential, and resumes a cut-short part with Range', async () => {
    const partPath = join(mkdtempSync(join(tmpdir(), 'okesu-dl-')), 'download-2.0.0.part');
    const req = { url: new URL('/v1/releases/2.0.0/artifact', cp.url), certPem: host.cert, keyPem: host.key, caPem: host.ca, credential: host.credential, partPath, size: release.bytes.length };
    expect(await downloadArtifact(req)).toEqual({ resumedFrom: 0, received: release.bytes.length });
    expect(readFileSync(partPath).equals(release.bytes)).toBe(true);
    truncateSync(partPath, 70_000);
    expect(await downloadArtifact(req)).toEqual({ resumedFrom: 70_000, received: release.bytes.length - 70_000 });
    expect(readFileSync(partPath).equals(release.bytes)).toBe(true);
    expect(await sha256File(partPath)).toBe(JSON.parse(release.signed.manifest).sha256);
  });

  it('is refused without the host credential, with the CP\'s reason', async () => {
    const partPath = join(mkdtempSync(join(tmpdir(), 'okesu-dl-')), 'p');
    await expect(downloadArtifact({ url: new URL('/v1/releases/2.0.0/artifact', cp.url), certPem: host.cert, keyPem: host.key, caPem: host.ca, credential: 'okh_nope', partPath, size: 10 }))
      .rejects.toMatchObject({ code: expect.stringMatching(/^OKS_ERR_/) });
    await expect(downloadArtifact({ url: new URL('/v1/releases/9.9.9/artifact', cp.url), certPem: host.cert, keyPem: host.key, caPem: host.ca, credential: host.credential, partPath, size: 10 }))
      .rejects.toThrow('no release 9.9.9');
  });
});
