import { z } from 'zod';
import { OkesuError } from '../../errors.js';
import { createTokenRequestSchema, type TokenView } from '../../protocol/api.js';
import type { createRouter } from '../http/router.js';
import { mintToken } from '../secrets.js';
import type { TokenRow } from '../store/tokens.js';
import type { ApiContext } from './context.js';
import { parseQuery } from './parse-query.js';

const auditQuery = z.object({ limit: z.coerce.number().int().min(1).max(10_000).default(100) });

const tokenView = ({ hash: _hash, ...row }: TokenRow): TokenView => row;

/** Tokens and the audit log (findings: finding-routes.ts). */
export function addAdminRoutes(router: ReturnType<typeof createRouter>, api: ApiContext): void {
  router.add('POST', '/v1/tokens', 'admin', async (ctx) => {
    const req = await ctx.body(createTokenRequestSchema);
    const by = ctx.operator as NonNullable<typeof ctx.operator>;
    const now = api.now();
    const token = req.kind === 'join' ? mintToken('join', api.identity.caPin) : mintToken('operator');
    const row: Omit<TokenRow, 'revoked_at'> = {
      id: token.parsed.id, kind: req.kind, role: req.kind === 'operator' ? req.role : null, name: req.name, hash: token.hash,
      created_at: now, expires_at: req.kind === 'join' ? now + req.ttl_ms : null, uses_left: req.kind === 'join' ? req.uses : null,
      created_by: by.name,
    };
    api.store.transaction(() => {
      api.store.tokens.insert(row);
      api.store.audit.record(now, by, 'token.create', row.id, { kind: row.kind, role: row.role, name: row.name, uses: row.uses_left, expires_at: row.expires_at });
    });
    return { status: 201, json: { token: token.text, view: { ...row, revoked_at: null } satisfies TokenView } };
  });
  router.add('GET', '/v1/tokens', 'admin', () => ({ json: { tokens: api.store.tokens.list().map(tokenView) } }));
  router.add('DELETE', '/v1/tokens/:id', 'admin', (ctx) => {
    const id = ctx.params['id'] as string;
    const by = ctx.operator as NonNullable<typeof ctx.operator>;
    if (id === by.tokenId) throw new OkesuError('OKS_ERR_BAD_REQUEST', 'a token cannot revoke itself');
    const done = api.store.transaction(() => {
      const ok = api.store.tokens.revoke(id, api.now());
      if (ok) api.store.audit.record(api.now(), by, 'token.revoke', id);
      return ok;
    });
    if (!done) throw new OkesuError('OKS_ERR_NOT_FOUND', `no active token ${id}`);
    return { json: { id, revoked: true } };
  });
  router.add('GET', '/v1/audit', 'admin', (ctx) => ({ json: { entries: api.store.audit.list(parseQuery(auditQuery, ctx.query).limit) } }));
}
