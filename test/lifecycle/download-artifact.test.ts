import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadArtifact, RetryableDownloadError, sha256File, type ArtifactDownload } from '../../daimon/lifecycle/download-artifact.js';
import { startReleaseServer, type ReleaseServer } from './release-server.js';

let srv: ReleaseServer;
const artifact = randomBytes(300_000);
beforeAll(async () => {
  srv = await startReleaseServer();
  srv.serve('2.0.0', artifact);
});
afterAll(() => srv.close());

function request(over: Partial<ArtifactDownload> = {}): ArtifactDownload {
  const dir = mkdtempSync(join(tmpdir(), 'okesu-download-'));
  return {
    url: new URL('/v1/releases/2.0.0/artifact', srv.url), certPem: srv.client.certPem, keyPem: srv.client.keyPem, caPem: srv.ca,
    credential: srv.client.credential, partPath: join(dir, 'download-2.0.0.part'), size: artifact.length, ...over,
  };
}

describe('downloading a release artifact (mutual TLS, bearer credential, Range)', () => {
  it('downloads the whole artifact with the host certificate and credential', async () => {
    srv.requests.length = 0;
    const req = request();
    expect(await downloadArtifact(req)).toEqual({ resumedFrom: 0, received: artifact.length });
    expect(readFileSync(req.partPath).equals(artifact)).toBe(true);
    expect(await sha256File(req.partPath)).toBe(createHash('sha256').update(artifact).digest('hex'));
    expect(srv.requests).toEqual([{ path: '/v1/releases/2.0.0/artifact', cn: 'web-01', bearer: true, status: 200 }]);
  });

  it('continues a cut-off download from where the part file ends (206), and starts over when the server ignores Range (200)', async () => {
    srv.requests.length = 0;
    const req = request();
    srv.cutNextAfter = 100_000;
    await expect(downloadArtifact(req)).rejects.toBeInstanceOf(RetryableDownloadError);
    const kept = readFileSync(req.partPath).length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(artifact.length);
    expect(await downloadArtifact(req)).toEqual({ resumedFrom: kept, received: artifact.length - kept });
    expect(readFileSync(req.partPath).equals(artifact)).toBe(true);
    expect(srv.requests.map((r) => [r.range, r.status])).toEqual([[undefined, 200], [`bytes=${kept}-`, 206]]);

    const again = request();
    writeFileSync(again.partPath, artifact.subarray(0, 5000));
    srv.ignoreRange = true;
    try {
      expect(await downloadArtifact(again)).toEqual({ resumedFrom: 0, received: artifact.length });
    } finally {
      srv.ignoreRange = false;
    }
    expect(readFileSync(again.partPath).equals(artifact)).toBe(true);
  });

  it('refuses an artifact larger than its signed size, and keeps nothing past it', async () => {
    const req = request({ size: 1000 });
    await expect(downloadArtifact(req)).rejects.toThrow(/sends 300000 bytes, the signed manifest says 1000/);
  });

  it('a part file longer than the signed size starts over; a complete one needs no request', async () => {
    srv.requests.length = 0;
    const req = request();
    writeFileSync(req.partPath, Buffer.concat([artifact, Buffer.from('junk')]));
    await downloadArtifact(req);
    expect(readFileSync(req.partPath).equals(artifact)).toBe(true);
    expect(await downloadArtifact(req)).toEqual({ resumedFrom: artifact.length, received: 0 });
    expect(srv.requests).toHaveLength(1);
  });

  it('says what the CP answered when it refuses (wrong credential, unknown version)', async () => {
    await expect(downloadArtifact(request({ credential: 'okh_wrong' }))).rejects.toThrow('no valid credential was presented');
    const missing = request({ url: new URL('/v1/releases/9.9.9/artifact', srv.url) });
    await expect(downloadArtifact(missing)).rejects.toThrow('no release 9.9.9');
    expect(existsSync(missing.partPath) && readFileSync(missing.partPath).length).toBeFalsy();
  });

  it('is refused by the server without the host certificate (mutual TLS)', async () => {
    const req = request({ certPem: '', keyPem: '' });
    await expect(downloadArtifact(req)).rejects.toThrow(/GET https:\/\/127\.0\.0\.1/);
  });
});
