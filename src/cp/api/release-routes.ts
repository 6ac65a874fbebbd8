import { open } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { OkesuError } from '../../errors.js';
import { RELEASE_HEADER, type SignedRelease } from '../../protocol/release.js';
import type { Reply, Router } from '../http/router.js';
import { authenticateTunnel } from '../tunnel/tunnel-auth.js';
import { verifyRelease } from '../../release/release-signing.js';
import type { ReleaseStore } from '../releases/release-store.js';
import type { ApiContext } from './context.js';

/**
 * Releases (issue 15): admins upload signed artifacts, viewers list them, and hosts download them with their tunnel
 * identity (client certificate + host credential) to upgrade, resuming with `Range: bytes=N-`.
 */
export function addReleaseRoutes(router: Router, api: ApiContext, releases: ReleaseStore): void {
  // The body is the artifact (~90 MB): streamed into the store, never through the router's capped body reader.
  router.add('POST', '/v1/releases', 'admin', async (ctx) => {
    const by = ctx.operator as NonNullable<typeof ctx.operator>;
    let view;
    try {
      const signed = signedFromHeader(ctx.req);
      // Checked before the client sends ~90 MB (it waits for 100 Continue); the store checks it again.
      verifyRelease(signed, releases.trustedKeys());
      ctx.continue();
      view = await releases.add(signed, ctx.req, by.name);
    } catch (err) {
      if (err instanceof OkesuError) api.log.warn({ code: err.code, by: by.name, problem: err.message }, 'release upload refused');
      throw err;
    }
    api.store.transaction(() => api.store.audit.record(api.now(), by, 'release.add', view.version, { sha256: view.sha256, size: view.size, key_id: view.key_id }));
    return { status: 201, json: view };
  });
  router.add('GET', '/v1/releases', 'viewer', () => ({ json: { releases: releases.list() } }));
  router.add('GET', '/v1/releases/:version', 'viewer', (ctx) => {
    const found = releases.get(ctx.params['version'] as string);
    if (!found) throw new OkesuError('OKS_ERR_NOT_FOUND', `no release ${ctx.params['version']}`);
    return { json: { view: found.view, signed: found.signed } };
  });
  // For hosts, not operators: the tunnel's authentication, behind the same per-address failure budget.
  router.add('GET', '/v1/releases/:version/artifact', 'public', async (ctx) => {
    const host = api.authFailures.guard('tunnel', ctx.req.socket.remoteAddress, () => authenticateTunnel(ctx.req, api.store.hosts, api.now())).host;
    const version = ctx.params['version'] as string;
    const found = releases.get(version);
    if (!found) throw new OkesuError('OKS_ERR_NOT_FOUND', `no release ${version}`);
    const size = found.view.size;
    const start = rangeStart(ctx.req.headers.range, size);
    if (start === 'unsatisfiable') {
      const err = new OkesuError('OKS_ERR_RANGE_NOT_SATISFIABLE', `${ctx.req.headers.range ?? ''} of ${size} bytes (only bytes=N- with N below the size is served)`);
      return { status: 416, json: err.toBody(), headers: { 'content-range': `bytes */${size}` } };
    }
    let file;
    try {
      file = await open(found.artifactPath, 'r');
    } catch {
      // Pruned between the lookup and the open.
      throw new OkesuError('OKS_ERR_NOT_FOUND', `no release ${version}`);
    }
    api.log.debug({ host: host.hostname, version, start }, 'release download');
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'content-length': String(size - (start ?? 0)),
      'accept-ranges': 'bytes',
      'x-okesu-sha256': found.view.sha256,
    };
    const reply: Reply = { status: 200, headers, stream: file.createReadStream({ start: start ?? 0, autoClose: true }) };
    if (start !== undefined) {
      reply.status = 206;
      headers['content-range'] = `bytes ${start}-${size - 1}/${size}`;
    }
    return reply;
  });
}

/** The signed release of an upload, from its `x-okesu-release` header (base64 of the JSON). */
function signedFromHeader(req: IncomingMessage): SignedRelease {
  const value = req.headers[RELEASE_HEADER];
  if (typeof value !== 'string' || value === '') throw new OkesuError('OKS_ERR_RELEASE_INVALID', `header ${RELEASE_HEADER} (base64 of the signed release JSON) is missing`);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) throw new OkesuError('OKS_ERR_RELEASE_INVALID', `header ${RELEASE_HEADER} is not base64`);
  try {
    // Shape and signature are checked by the store (verifyRelease); here only that it is JSON.
    return JSON.parse(Buffer.from(value, 'base64').toString('utf8')) as SignedRelease;
  } catch {
    throw new OkesuError('OKS_ERR_RELEASE_INVALID', `header ${RELEASE_HEADER} is not base64 of JSON`);
  }
}

/**
 * The first byte a download asks for: undefined without a Range header (the whole file), a number for `bytes=N-`
 * with N below the size, 'unsatisfiable' for anything else (other forms are not served: hosts only resume).
 */
export function rangeStart(header: string | undefined, size: number): number | undefined | 'unsatisfiable' {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d{1,15})-$/.exec(header.trim());
  if (!m) return 'unsatisfiable';
  const start = Number(m[1]);
  return start < size ? start : 'unsatisfiable';
}
