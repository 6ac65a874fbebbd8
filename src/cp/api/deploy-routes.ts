import { randomBytes } from 'node:crypto';
import { OkesuError } from '../../errors.js';
import { deployPrepareRequestSchema, deployResultRequestSchema } from '../../protocol/deploy-api.js';
import type { DeployPrepareResponse, DeployResultResponse, SshHostKeyView } from '../../protocol/deploy-api.js';
import type { Router } from '../http/router.js';
import { mintToken } from '../secrets.js';
import type { TokenRow } from '../store/tokens.js';
import type { ApiContext } from './context.js';

/** The name a deploy's join token carries: `deploy dp_… user@host:port`; the result finds its deploy by it. */
function deployTokenName(deployId: string, target: string): string {
  return `deploy ${deployId} ${target}`;
}

/** Outcomes after which the host key the client saw is trusted enough to pin (something was installed or checked). */
const PINNING_OUTCOMES: ReadonlySet<string> = new Set(['installed', 'unchanged', 'upgraded']);

/**
 * Deploy over SSH (docs/lifecycle.md): the CP issues each deploy a single-use join token bound to the target's
 * hostname and says which SSH host key it pinned for the target; the result is audited and pins the key on first use.
 * The operator's SSH key never reaches the CP: `okesu deploy` connects from the operator's machine.
 */
export function addDeployRoutes(router: Router, api: ApiContext, deploy: { cpUrl: () => string }): void {
  // Admin: it mints a join token, which only admins may do (POST /v1/tokens).
  router.add('POST', '/v1/deploy/prepare', 'admin', async (ctx) => {
    const req = await ctx.body(deployPrepareRequestSchema);
    const by = ctx.operator as NonNullable<typeof ctx.operator>;
    const now = api.now();
    const deployId = `dp_${randomBytes(8).toString('hex')}`;
    const token = mintToken('join', api.identity.caPin);
    const row: Omit<TokenRow, 'revoked_at'> = {
      id: token.parsed.id, kind: 'join', role: null, name: deployTokenName(deployId, req.target), hash: token.hash,
      created_at: now, expires_at: now + req.ttl_ms, uses_left: 1, created_by: by.name, bound_hostname: req.hostname,
    };
    const pinned = api.store.transaction(() => {
      api.store.tokens.insert(row);
      api.store.audit.record(now, by, 'deploy.prepare', req.target, { deploy_id: deployId, hostname: req.hostname, token: row.id, expires_at: row.expires_at });
      return api.store.sshHostKeys.get(req.target);
    });
    const answer: DeployPrepareResponse = { deploy_id: deployId, join_token: token.text, cp_url: deploy.cpUrl(), pinned_host_key: pinned?.fingerprint ?? null };
    return { status: 201, json: answer };
  });

  router.add('POST', '/v1/deploy/result', 'admin', async (ctx) => {
    const req = await ctx.body(deployResultRequestSchema);
    const by = ctx.operator as NonNullable<typeof ctx.operator>;
    const now = api.now();
    // A deploy that failed before it was prepared has no token: it is audited, and pins nothing.
    const tokenRow = req.deploy_id === undefined ? undefined : api.store.tokens.list().find((t) => t.kind === 'join' && t.name === deployTokenName(req.deploy_id as string, req.target));
    if (req.deploy_id !== undefined && !tokenRow) throw new OkesuError('OKS_ERR_NOT_FOUND', `no deploy ${req.deploy_id} prepared for ${req.target}`);
    if (tokenRow && (tokenRow.bound_hostname ?? null) !== req.hostname) {
      throw new OkesuError('OKS_ERR_BAD_REQUEST', `deploy ${req.deploy_id ?? ''} was prepared for host "${tokenRow.bound_hostname ?? ''}", not "${req.hostname}"`);
    }
    const detail = { deploy_id: req.deploy_id ?? null, hostname: req.hostname, host_key: req.host_key, ...(req.error !== undefined && { error: req.error }) };
    const pinned = api.store.transaction(() => {
      const pin = api.store.sshHostKeys.get(req.target);
      // The token is single-use and the deploy is over: a use left (nothing registered: unchanged, failed) goes now.
      if (tokenRow && tokenRow.uses_left !== null && tokenRow.uses_left > 0) api.store.tokens.revoke(tokenRow.id, now);
      // Defence in depth: the client refuses a changed key before it uploads anything; a result that says otherwise
      // (an older client, a hand-made request) is recorded as refused and pins nothing.
      if (pin && req.host_key !== null && pin.fingerprint !== req.host_key) {
        api.store.audit.record(now, by, 'deploy.refused', req.target, { ...detail, pinned_host_key: pin.fingerprint, reported_outcome: req.outcome });
        return 'changed' as const;
      }
      api.store.audit.record(now, by, `deploy.${req.outcome}`, req.target, detail);
      if (pin || !tokenRow || req.host_key === null || !PINNING_OUTCOMES.has(req.outcome)) return false;
      return api.store.sshHostKeys.pin({ target: req.target, fingerprint: req.host_key, pinned_at: now, pinned_by: by.name });
    });
    if (pinned === 'changed') {
      throw new OkesuError('OKS_ERR_SSH_HOST_KEY_CHANGED', `${req.target} presented ${req.host_key ?? ''}; pinned is ${api.store.sshHostKeys.get(req.target)?.fingerprint ?? ''} (okesu deploy forget-key ${req.target} if the change is legitimate)`);
    }
    const answer: DeployResultResponse = { deploy_id: req.deploy_id ?? null, recorded: true, pinned };
    return { json: answer };
  });

  router.add('GET', '/v1/deploy/host-keys', 'admin', () => {
    const keys: SshHostKeyView[] = api.store.sshHostKeys.list().map((k) => ({ target: k.target, fingerprint: k.fingerprint, pinned_at: k.pinned_at, pinned_by: k.pinned_by }));
    return { json: { host_keys: keys } };
  });

  // Accepting a legitimately changed host key (a reinstalled machine) is an explicit, audited admin act.
  router.add('DELETE', '/v1/deploy/host-keys/:target', 'admin', (ctx) => {
    const target = ctx.params['target'] as string;
    const by = ctx.operator as NonNullable<typeof ctx.operator>;
    const now = api.now();
    const forgotten = api.store.transaction(() => {
      const pin = api.store.sshHostKeys.get(target);
      if (!pin || !api.store.sshHostKeys.forget(target)) return undefined;
      api.store.audit.record(now, by, 'deploy.forget_key', target, { fingerprint: pin.fingerprint });
      return pin;
    });
    if (!forgotten) throw new OkesuError('OKS_ERR_NOT_FOUND', `no SSH host key is pinned for ${target}`);
    return { json: { target, fingerprint: forgotten.fingerprint, forgotten: true } };
  });
}
