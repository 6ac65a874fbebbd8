import https from 'node:https';
import { z } from 'zod';
import { OkesuError } from '../errors.js';
import { hostViewSchema } from '../protocol/api.js';
import type { ClientConfig } from '../protocol/client-config.js';
import { deployPrepareResponseSchema, deployResultRequestSchema, deployResultResponseSchema, sshHostKeyViewSchema } from '../protocol/deploy-api.js';
import type { DeployResultResponse, SshHostKeyView } from '../protocol/deploy-api.js';
import { describeIssues } from '../protocol/event.js';
import { apiUrl, errorFromBody, reason } from '../transport/operator-client.js';
import type { DeployCp } from './deploy-host.js';

const MAX_ANSWER_BYTES = 16 * 1024 * 1024;
const hostKeysAnswer = z.object({ host_keys: z.array(sshHostKeyViewSchema) });
const forgottenAnswer = z.object({ target: z.string(), fingerprint: z.string(), forgotten: z.literal(true) });
const hostsAnswer = z.object({ hosts: z.array(hostViewSchema.pick({ hostname: true, state: true }).passthrough()) });

/** The CP endpoints of `okesu deploy` (docs/api.md "Deploy"), every answer validated. */
export interface DeployCpClient extends DeployCp {
  hostKeys(): Promise<SshHostKeyView[]>;
  forgetKey(target: string): Promise<{ target: string; fingerprint: string }>;
  close(): void;
}

/** Builds the deploy client for one CP context (admin.yaml or the operator's config). */
export function createDeployCpClient(config: ClientConfig, opts: { timeoutMs?: number } = {}): DeployCpClient {
  const agent = new https.Agent({ ca: config.ca, keepAlive: true });
  const call = <T>(method: string, path: string, answer: z.ZodType<T>, body?: unknown): Promise<T> => request(config, agent, { method, path, answer, body, timeoutMs: opts.timeoutMs ?? 30_000 });
  return {
    prepare: (target, hostname) => call('POST', '/v1/deploy/prepare', deployPrepareResponseSchema, { target, hostname }),
    result: (body): Promise<DeployResultResponse> => call('POST', '/v1/deploy/result', deployResultResponseSchema, deployResultRequestSchema.parse(body)),
    async hostOnline(hostname) {
      const { hosts } = await call('GET', '/v1/hosts', hostsAnswer);
      return hosts.some((h) => h.hostname === hostname && h.state === 'online');
    },
    hostKeys: async () => (await call('GET', '/v1/deploy/host-keys', hostKeysAnswer)).host_keys,
    forgetKey: (target) => call('DELETE', `/v1/deploy/host-keys/${encodeURIComponent(target)}`, forgottenAnswer),
    close: () => agent.destroy(),
  };
}

function request<T>(config: ClientConfig, agent: https.Agent, c: { method: string; path: string; answer: z.ZodType<T>; body?: unknown; timeoutMs: number }): Promise<T> {
  const url = apiUrl(config.cp, c.path);
  const payload = c.body === undefined ? undefined : JSON.stringify(c.body);
  const headers: Record<string, string | number> = { authorization: `Bearer ${config.token}`, accept: 'application/json' };
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(payload);
  }
  const what = `${c.method} ${url.pathname}`;
  return new Promise<T>((resolve, reject) => {
    const req = https.request(url, { method: c.method, agent, headers, timeout: c.timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) res.destroy(new OkesuError('OKS_ERR_FRAME_TOO_LARGE', `${what}: answer exceeds ${MAX_ANSWER_BYTES} bytes`));
        else chunks.push(chunk);
      });
      res.on('error', (err) => reject(err instanceof OkesuError ? err : new OkesuError('OKS_ERR_CP_UNREACHABLE', reason(err))));
      res.on('end', () => {
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          return reject(new OkesuError('OKS_ERR_BAD_FRAME', `${what}: HTTP ${res.statusCode ?? 0}, answer is not JSON`));
        }
        if ((res.statusCode ?? 0) >= 400) return reject(errorFromBody(res.statusCode ?? 0, body));
        const parsed = c.answer.safeParse(body);
        if (parsed.success) resolve(parsed.data);
        else reject(new OkesuError('OKS_ERR_BAD_FRAME', `${what}: ${describeIssues(parsed.error)}`));
      });
    });
    req.on('timeout', () => req.destroy(new OkesuError('OKS_ERR_CP_UNREACHABLE', `${config.cp}: no answer within ${c.timeoutMs} ms`)));
    req.on('error', (err) => reject(err instanceof OkesuError ? err : new OkesuError('OKS_ERR_CP_UNREACHABLE', `${config.cp}: ${reason(err)}`)));
    req.end(payload);
  });
}
