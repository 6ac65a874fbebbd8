import { z } from 'zod';
import { OkesuError } from '../../errors.js';
import { postRunsRequestSchema } from '../../protocol/api.js';
import type { Router } from '../http/router.js';
import { TERMINAL_STATUSES } from '../store/runs.js';
import type { ApiContext } from './context.js';
import { parseQuery } from './parse-query.js';

const listQuery = z.object({
  host: z.string().max(253).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
const eventsQuery = z.object({
  after: z.coerce.number().int().min(0).default(0),
  wait_ms: z.coerce.number().int().min(0).max(30_000).default(0),
  limit: z.coerce.number().int().min(1).max(5000).default(1000),
});
const cancelBody = z.object({ reason: z.string().max(1024).default('cancelled by an operator') });

/** Dispatch (to one host or a fan-out), run records, transcripts (long poll), cancel, and the agent library. */
export function addRunRoutes(router: Router, api: ApiContext): void {
  router.add('GET', '/v1/agents', 'viewer', () => ({ json: { agents: api.agents.entries() } }));
  router.add('POST', '/v1/runs', 'operator', async (ctx) => {
    const req = await ctx.body(postRunsRequestSchema);
    const by = ctx.operator as NonNullable<typeof ctx.operator>;
    if ('host' in req) return { status: 201, json: { run: await api.dispatcher.createRun(req, by) } };
    return { status: 201, json: await api.dispatcher.createRuns(req, by) };
  });
  router.add('GET', '/v1/runs', 'viewer', (ctx) => {
    const q = parseQuery(listQuery, ctx.query);
    return { json: { runs: api.store.runs.list({ host: q.host, limit: q.limit }) } };
  });
  router.add('GET', '/v1/runs/:id', 'viewer', (ctx) => {
    const run = api.store.runs.get(ctx.params['id'] as string);
    if (!run) throw new OkesuError('OKS_ERR_NOT_FOUND', `no run ${ctx.params['id']}`);
    return { json: { run } };
  });
  router.add('GET', '/v1/runs/:id/events', 'viewer', async (ctx) => {
    const runId = ctx.params['id'] as string;
    const q = parseQuery(eventsQuery, ctx.query);
    const read = () => ({ run: api.store.runs.get(runId), events: api.store.runs.events(runId, q.after, q.limit) });
    let page = read();
    if (!page.run) throw new OkesuError('OKS_ERR_NOT_FOUND', `no run ${runId}`);
    if (page.events.length === 0 && !TERMINAL_STATUSES.has(page.run.status) && q.wait_ms > 0) {
      await api.waiters.wait(runId, q.wait_ms);
      page = read();
    }
    const last = page.events[page.events.length - 1];
    return { json: { run: page.run, events: page.events, next: last ? last.seq : q.after } };
  });
  router.add('POST', '/v1/runs/:id/cancel', 'operator', async (ctx) => {
    const body = await ctx.body(cancelBody);
    const run = await api.dispatcher.cancel(ctx.params['id'] as string, ctx.operator as NonNullable<typeof ctx.operator>, body.reason);
    return { json: { run } };
  });
}
