import { z } from 'zod';
import { OkesuError } from '../../errors.js';
import { createRolloutRequestSchema } from '../../protocol/rollout.js';
import type { Router } from '../http/router.js';
import type { OperatorIdentity } from '../http/operator-auth.js';
import type { Rollouts } from '../rollouts/rollouts.js';
import { parseQuery } from './parse-query.js';

const listQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });

const operatorOf = (op: OperatorIdentity | undefined): OperatorIdentity => op as OperatorIdentity;

/**
 * Rollouts (issue 15). Starting one is admin-level: it replaces the executable every selected daimon runs and
 * restarts it, fleet-wide, and `allow_downgrade` can put back an older (signed, perhaps vulnerable) release — more
 * than an operator's dispatch of library agents, like removing hosts. Cancelling only stops new orders, so an
 * operator may do it (stopping a bad rollout should not wait for the admin). Reading is for viewers.
 */
export function addRolloutRoutes(router: Router, rollouts: Rollouts): void {
  router.add('POST', '/v1/rollouts', 'admin', async (ctx) => {
    const request = await ctx.body(createRolloutRequestSchema);
    return { status: 201, json: rollouts.create(request, operatorOf(ctx.operator)) };
  });
  router.add('GET', '/v1/rollouts', 'viewer', (ctx) => {
    const q = parseQuery(listQuery, ctx.query);
    return { json: { rollouts: rollouts.list(q.limit) } };
  });
  router.add('GET', '/v1/rollouts/:id', 'viewer', (ctx) => {
    const id = ctx.params['id'] as string;
    const view = rollouts.get(id);
    if (!view) throw new OkesuError('OKS_ERR_NOT_FOUND', `no rollout ${id}`);
    return { json: view };
  });
  router.add('POST', '/v1/rollouts/:id/cancel', 'operator', (ctx) => ({ json: rollouts.cancel(ctx.params['id'] as string, operatorOf(ctx.operator)) }));
}
