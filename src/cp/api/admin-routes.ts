import { z } from 'zod';
import { OkesuError } from '../../errors.js';
import { createTokenRequestSchema, type TokenView } from '../../protocol/api.js';
import type { Router } from '../http/router.js';
import { mintToken } from '../secrets.js';
import type { TokenRow } from '../store/tokens.js';
import type { ApiContext } from './context.js';
import { parseQuery } from './parse-query.js';

const auditQuery = z.object({ limit: z.coerce.number().int().min(1).max(10_000).default(100) });

/** A token as the API shows it: the listed fields picked one by one, so the stored hash can never slip through. */
function tokenView(row: Omit<TokenRow, 'hash'> & Partial<Pick<TokenRow, 'hash'>>): TokenView {
  return {
    id: row.id, kind: row.kind, role: row.role, name: row.name, created_at: row.created_at, expires_at: row.expires_at,
    uses_left: row.uses_left, revoked_at: row.revoked_at, created_by: row.created_by,
  };
}

/** Tokens and the audit log (findings: finding-routes.ts). */
export function addAdminRoutes(router: Router, api: ApiContext): void {
  router.add('POST', '/v1/tokens', 'admin', async (ctx) => {
    const req = await ctx.body(createTokenRequestSchema);
    const by = ctx.operator as NonNullable<typeof ctx.operator>;
    const now = api.now();
    const token = req.kind === 'join' ? mintToken('join', api.identity.caPin) : mintToken('operator');
    const row: Omit<TokenRow, 'revoked_at'> = {
      id: token.parsed.id, kind: req.kind, role: req.kind === 'operator' ? req.role : null, name: req.name, hash: token.hash,
      created_at: now, expires_at: req.ttl_ms === undefined ? null : now + req.ttl_ms, uses_left: req.kind === 'join' ? req.uses : null,
      created_by: by.name,
    };
    api.store.transaction(() => {
      api.store.tokens.insert(row);
      api.store.audit.record(now, by, 'token.create', row.id, { kind: row.kind, role: row.role, name: row.name, uses: row.uses_left, expires_at: row.expires_at });
    });
    return { status: 201, json: { token: token.text, view: tokenView({ ...row, revoked_at: null }) } };
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
    // Authentication happens once per connection: the token's open streams and long polls end here, not at their next request.
    api.sessions.endToken(id, 'OKS_ERR_TOKEN_REVOKED');
    return { json: { id, revoked: true } };
  });
  router.add('GET', '/v1/audit', 'admin', (ctx) => ({ json: { entries: api.store.audit.list(parseQuery(auditQuery, ctx.query).limit) } }));
}
