import { OkesuError } from '../../errors.js';
import { channelNameSchema, createChannelRequestSchema } from '../../protocol/notify-api.js';
import type { Router } from '../http/router.js';
import type { Notifier } from '../notify/notifier.js';
import type { ApiContext } from './context.js';

const MAX_DELIVERIES = 500;

/**
 * Alert delivery (docs/notifications.md): admins add, remove and test channels (a channel sends fleet data to a place
 * of their choosing, and its secrets go in with it); viewers list channels (secrets shown as `set`) and deliveries.
 */
export function addNotifyRoutes(router: Router, api: Pick<ApiContext, 'store' | 'now'>, notifier: Notifier): void {
  router.add('GET', '/v1/notify/channels', 'viewer', () => ({ json: { channels: notifier.listChannels() } }));

  router.add('POST', '/v1/notify/channels', 'admin', async (ctx) => {
    const req = await ctx.body(createChannelRequestSchema);
    const by = ctx.operator as NonNullable<typeof ctx.operator>;
    const channel = api.store.transaction(() => {
      const view = notifier.addChannel(req, by.name);
      // The audit names the channel and where it sends, never a secret (the view has none).
      api.store.audit.record(api.now(), by, 'notify.add', req.name, { kind: req.kind, target: view.target, rules: view.rules });
      return view;
    });
    return { status: 201, json: { channel } };
  });

  router.add('DELETE', '/v1/notify/channels/:name', 'admin', (ctx) => {
    const name = channelName(ctx.params['name']);
    const by = ctx.operator as NonNullable<typeof ctx.operator>;
    const removed = api.store.transaction(() => {
      const ok = notifier.removeChannel(name);
      if (ok) api.store.audit.record(api.now(), by, 'notify.remove', name);
      return ok;
    });
    if (!removed) throw new OkesuError('OKS_ERR_NOT_FOUND', `no notification channel ${name}`);
    return { json: { name, removed: true } };
  });

  router.add('POST', '/v1/notify/channels/:name/test', 'admin', async (ctx) => {
    const name = channelName(ctx.params['name']);
    const by = ctx.operator as NonNullable<typeof ctx.operator>;
    const result = await notifier.test(name);
    api.store.audit.record(api.now(), by, 'notify.test', name, { ok: result.ok, delivery_id: result.delivery_id });
    return { json: result };
  });

  router.add('GET', '/v1/notify/deliveries', 'viewer', (ctx) => {
    const channel = ctx.query.get('channel') ?? undefined;
    const limitText = ctx.query.get('limit');
    const limit = limitText === null ? 50 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_DELIVERIES) throw new OkesuError('OKS_ERR_BAD_REQUEST', `limit must be an integer from 1 to ${MAX_DELIVERIES}`);
    if (channel !== undefined && !api.store.notify.getChannel(channelName(channel))) throw new OkesuError('OKS_ERR_NOT_FOUND', `no notification channel ${channel}`);
    return { json: { deliveries: notifier.deliveries({ ...(channel !== undefined && { channel }), limit }) } };
  });
}

function channelName(raw: string | undefined): string {
  const parsed = channelNameSchema.safeParse(raw);
  if (!parsed.success) throw new OkesuError('OKS_ERR_BAD_REQUEST', `channel: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}
