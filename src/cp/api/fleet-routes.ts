import { OkesuError } from '../../errors.js';
import { registerRequestSchema } from '../../protocol/api.js';
import { hostLabelsSchema } from '../../protocol/orchestration-api.js';
import { applyLabelOverrides } from '../store/hosts.js';
import type { Router } from '../http/router.js';
import { registerHost } from '../registration.js';
import type { ApiContext } from './context.js';

/** Public endpoints, registration and the host registry. */
export function addFleetRoutes(router: Router, api: ApiContext): void {
  router.add('GET', '/v1/health', 'public', () => ({ json: { ok: true, version: api.version } }));
  router.add('GET', '/v1/ca', 'public', () => ({ text: api.identity.ca.certPem }));
  router.add('POST', '/v1/register', 'public', async (ctx) => {
    const remote = ctx.req.socket.remoteAddress;
    api.authFailures.gate('register', remote);
    let res: Awaited<ReturnType<typeof registerHost>>;
    try {
      res = await registerHost(api.store, api.identity, await ctx.body(registerRequestSchema), api.now(), api.hostCertTtlMs, api.releaseKeys);
    } catch (err) {
      // A malformed body's message can quote the body (the token in it): the code alone is logged then.
      if (err instanceof OkesuError && err.status < 500) api.authFailures.fail('register', remote, err.code, err.code === 'OKS_ERR_BAD_REQUEST' ? undefined : err.message);
      throw err;
    }
    api.log.info({ host: res.hostname }, 'host registered');
    const row = api.store.hosts.get(res.hostname);
    if (row) {
      const view = api.liveness.view(row, api.now());
      api.feed.publish([api.feed.append(api.now(), 'host', view)]);
    }
    return { status: 201, json: res };
  });
  router.add('GET', '/v1/whoami', 'viewer', (ctx) => ({
    json: { name: ctx.operator?.name, role: ctx.operator?.role, token_id: ctx.operator?.tokenId },
  }));
  router.add('GET', '/v1/hosts', 'viewer', () => {
    const now = api.now();
    return { json: { hosts: api.store.hosts.list().map((row) => api.liveness.view(row, now)) } };
  });
  // Operator labels are kept apart from the daimon's own (`--label`) and win over them: a reconnect announcing other
  // labels does not undo them (the tunnel's hello applies them over whatever the daimon announces).
  router.add('PUT', '/v1/hosts/:hostname/labels', 'operator', async (ctx) => {
    const hostname = ctx.params['hostname'] as string;
    const change = await ctx.body(hostLabelsSchema);
    const both = change.remove.filter((k) => Object.hasOwn(change.set, k));
    if (both.length > 0) throw new OkesuError('OKS_ERR_BAD_REQUEST', `label ${both.join(', ')} is both set and removed`);
    const now = api.now();
    const { view, cursor } = api.store.transaction(() => {
      const row = api.store.hosts.get(hostname);
      if (!row) throw new OkesuError('OKS_ERR_NOT_FOUND', `no host named ${hostname}`);
      for (const [k, v] of Object.entries(change.set)) api.store.hosts.setLabelOverride(hostname, k, v);
      for (const k of change.remove) api.store.hosts.setLabelOverride(hostname, k, null);
      const labels = applyLabelOverrides(row.labels, api.store.hosts.labelOverrides(hostname));
      api.store.hosts.updateFacts(row.id, { version: row.version, os: row.os, arch: row.arch, labels });
      api.store.audit.record(now, ctx.operator as NonNullable<typeof ctx.operator>, 'host.labels', hostname, { set: change.set, remove: change.remove });
      const view = api.liveness.view({ ...row, labels }, now);
      return { view, cursor: api.store.feed.append(now, 'host', view) };
    });
    api.feed.publish([{ cursor, kind: 'host', payload: view }]);
    return { json: view };
  });
  router.add('DELETE', '/v1/hosts/:hostname', 'admin', (ctx) => {
    const hostname = ctx.params['hostname'] as string;
    const row = api.store.hosts.get(hostname);
    if (!row) throw new OkesuError('OKS_ERR_NOT_FOUND', `no host named ${hostname}`);
    const now = api.now();
    api.store.transaction(() => {
      api.store.hosts.revoke(hostname, now);
      api.store.audit.record(now, ctx.operator as NonNullable<typeof ctx.operator>, 'host.remove', hostname, { serial: row.cert_serial });
    });
    api.liveness.forget(hostname);
    api.tunnels.disconnect(hostname);
    // Off the request's path: a bucket outage must not fail the removal, which is already done.
    void api.jobs?.forgetHost(hostname).catch((err: unknown) => api.log.warn({ err, host: hostname }, 'deleting a removed host\'s bucket objects failed'));
    return { json: { hostname, revoked: true } };
  });
}
