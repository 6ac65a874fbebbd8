import { createHash, randomBytes } from 'node:crypto';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { RELEASE_HEADER, RELEASE_PLATFORM, type SignedRelease } from '../../src/protocol/release.js';
import type { generateReleaseKey} from '../../src/release/release-signing.js';
import { signRelease } from '../../src/release/release-signing.js';
import type { CpHarness, HostIdentity } from './cp-harness.js';

/** A release key for tests: the private PEM, the public text and its id. */
export type TestReleaseKey = ReturnType<typeof generateReleaseKey>;

/** A fresh artifact of `size` random bytes and its signed release for `version`. */
export function signedArtifact(key: TestReleaseKey, version: string, size = 64 * 1024): { bytes: Buffer; signed: SignedRelease } {
  const bytes = randomBytes(size);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { bytes, signed: signRelease(key.privateKeyPem, { version, platform: RELEASE_PLATFORM, sha256, size }) };
}

/** An HTTP answer read whole. */
export interface BinaryAnswer {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
  json: unknown;
}

function read(res: IncomingMessage): Promise<BinaryAnswer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('error', reject);
    res.on('end', () => {
      const body = Buffer.concat(chunks);
      let json: unknown;
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch {
        json = undefined;
      }
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
    });
  });
}

/**
 * `POST /v1/releases` with `body` and the header `header` (default: base64 of `signed`); the admin's token unless
 * `token` says otherwise. The answer may come before the body is all sent (a refusal): a write error then is ignored.
 */
export function uploadRelease(cp: CpHarness, body: Buffer, opts: { signed?: SignedRelease; header?: string | null; token?: string }): Promise<BinaryAnswer> {
  const headers: Record<string, string | number> = { authorization: `Bearer ${opts.token ?? cp.adminConfig.token}`, 'content-type': 'application/octet-stream', 'content-length': body.length };
  const header = opts.header === undefined ? Buffer.from(JSON.stringify(opts.signed)).toString('base64') : opts.header;
  if (header !== null) headers[RELEASE_HEADER] = header;
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = https.request({ host: '127.0.0.1', port: cp.port, path: '/v1/releases', method: 'POST', headers, ca: cp.caPem, agent: false }, (res) => {
      answered = true;
      read(res).then(resolve, reject);
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    req.end(body);
  });
}

/** `GET path` as a host: its client certificate and credential (each can be left out), optional headers. */
export function hostGet(cp: CpHarness, path: string, host: HostIdentity, opts: { cert?: boolean; credential?: boolean; headers?: Record<string, string> } = {}): Promise<BinaryAnswer> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.credential !== false) headers['authorization'] = `Bearer ${host.credential}`;
  const tls = opts.cert === false ? {} : { key: host.key, cert: host.cert };
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: cp.port, path, method: 'GET', headers, ca: cp.caPem, agent: false, ...tls }, (res) => void read(res).then(resolve, reject));
    req.on('error', reject);
    req.end();
  });
}
