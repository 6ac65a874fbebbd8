import { createReadStream } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { OkesuError } from '../../errors.js';
import type { ClientConfig } from '../../protocol/client-config.js';
import { describeIssues } from '../../protocol/event.js';
import { RELEASE_HEADER, releaseViewSchema, signedReleaseSchema, type ReleaseView, type SignedRelease } from '../../protocol/release.js';
import { apiUrl, errorFromBody, reason } from '../../transport/operator-client.js';

/** Silence after which a call gives up. An upload is never cut short while bytes flow: this is an idle timeout. */
const IDLE_TIMEOUT_MS = 120_000;
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

const listAnswer = z.object({ releases: z.array(releaseViewSchema) });
const oneAnswer = z.object({ view: releaseViewSchema, signed: signedReleaseSchema });

/** The release endpoints of the operator API (docs/api.md), for `okesu release`. */
export interface ReleaseClient {
  list(): Promise<ReleaseView[]>;
  /** One release and its signed manifest; undefined when the CP has no such version. */
  get(version: string): Promise<{ view: ReleaseView; signed: SignedRelease } | undefined>;
  /** Streams the artifact file to `POST /v1/releases` with its signed release in the header. */
  upload(artifactPath: string, size: number, signed: SignedRelease): Promise<ReleaseView>;
}

/** Builds the release client for one CP context. */
export function createReleaseClient(config: ClientConfig): ReleaseClient {
  const agent = new https.Agent({ ca: config.ca, keepAlive: false });
  const auth = { authorization: `Bearer ${config.token}` };

  const call = <T>(path: string, schema: z.ZodType<T>): Promise<{ status: number; value: T | undefined }> =>
    new Promise((resolve, reject) => {
      const req = https.request(apiUrl(config.cp, path), { method: 'GET', agent, headers: { ...auth, accept: 'application/json' }, timeout: IDLE_TIMEOUT_MS }, (res) => {
        answer(res, `GET ${path}`, schema).then(resolve, reject);
      });
      failOn(req, config, reject);
      req.end();
    });

  return {
    list: async () => (await call('/v1/releases', listAnswer)).value?.releases ?? [],
    get: async (version) => {
      try {
        return (await call(`/v1/releases/${encodeURIComponent(version)}`, oneAnswer)).value;
      } catch (err) {
        if (err instanceof OkesuError && err.code === 'OKS_ERR_NOT_FOUND') return undefined;
        throw err;
      }
    },
    upload: (artifactPath, size, signed) =>
      new Promise((resolve, reject) => {
        // The CP checks the signed release before it asks for the body (100 Continue): a refusal costs no upload.
        const headers = {
          ...auth, accept: 'application/json', 'content-type': 'application/octet-stream', 'content-length': size, expect: '100-continue',
          [RELEASE_HEADER]: Buffer.from(JSON.stringify(signed), 'utf8').toString('base64'),
        };
        const file = createReadStream(artifactPath);
        let answered = false;
        const req = https.request(apiUrl(config.cp, '/v1/releases'), { method: 'POST', agent, headers, timeout: IDLE_TIMEOUT_MS }, (res) => {
          // A refusal can come before (or while) the artifact is sent: stop sending, report the CP's answer.
          answered = true;
          file.unpipe(req);
          file.destroy();
          answer(res, 'POST /v1/releases', releaseViewSchema).then((a) => resolve(a.value as ReleaseView), reject).finally(() => req.destroy());
        });
        failOn(req, config, (err) => {
          if (!answered) reject(err);
        });
        file.on('error', (err) => {
          req.destroy();
          reject(new OkesuError('OKS_ERR_CONFIG', `cannot read ${artifactPath}: ${err.message}`));
        });
        req.on('continue', () => file.pipe(req));
        req.flushHeaders();
      }),
  };
}

function failOn(req: ReturnType<typeof https.request>, config: ClientConfig, reject: (err: unknown) => void): void {
  req.on('timeout', () => req.destroy(new OkesuError('OKS_ERR_CP_UNREACHABLE', `${config.cp}: nothing heard for ${IDLE_TIMEOUT_MS / 1000} s`)));
  req.on('error', (err) => reject(err instanceof OkesuError ? err : new OkesuError('OKS_ERR_CP_UNREACHABLE', `${config.cp}: ${reason(err)}`)));
}

function answer<T>(res: IncomingMessage, what: string, schema: z.ZodType<T>): Promise<{ status: number; value: T | undefined }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_ANSWER_BYTES) res.destroy(new Error(`${what}: answer exceeds ${MAX_ANSWER_BYTES} bytes`));
      else chunks.push(chunk);
    });
    res.on('error', (err) => reject(new OkesuError('OKS_ERR_CP_UNREACHABLE', reason(err))));
    res.on('end', () => {
      const status = res.statusCode ?? 0;
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        reject(new OkesuError(status >= 400 ? 'OKS_ERR_INTERNAL' : 'OKS_ERR_BAD_FRAME', `${what}: HTTP ${status}, the answer is not JSON`));
        return;
      }
      if (status >= 400) {
        reject(errorFromBody(status, body));
        return;
      }
      const parsed = schema.safeParse(body);
      if (!parsed.success) reject(new OkesuError('OKS_ERR_BAD_FRAME', `${what}: ${describeIssues(parsed.error)}`));
      else resolve({ status, value: parsed.data });
    });
  });
}
