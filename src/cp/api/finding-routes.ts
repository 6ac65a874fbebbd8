import { z } from 'zod';
import { OkesuError } from '../../errors.js';
import { findingFilterSchema } from '../../protocol/api.js';
import { TRIAGE_STATUSES } from '../../protocol/finding.js';
import { triageRequestSchema, type TriageAnswer, type TriageView } from '../../protocol/findings-api.js';
import { suggestSuppression } from '../../specs/suppress-suggestion.js';
import type { RequestContext, Router } from '../http/router.js';
import type { ApiContext } from './context.js';
import { parseQuery } from './parse-query.js';

const findingsQuery = findingFilterSchema.extend({
  since_ms: z.coerce.number().int().min(0).optional(),
  after_id: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(100_000).default(1000),
});
const summaryQuery = findingFilterSchema.extend({
  open_by_host: z.enum(['0', '1', 'false', 'true']).transform((v) => v === '1' || v === 'true').optional(),
});
const viewFilter = findingFilterSchema.omit({ host: true }).extend({ limit: z.coerce.number().int().min(1).max(1000).default(100) });
const groupsQuery = viewFilter.extend({ status: z.enum(TRIAGE_STATUSES).optional() });
const findingIdSchema = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/** The `:id` of a findings path, or a 400 naming it. */
function findingId(ctx: RequestContext): number {
  const parsed = findingIdSchema.safeParse(ctx.params['id']);
  if (!parsed.success) throw new OkesuError('OKS_ERR_BAD_REQUEST', `id: expected a finding id (a positive integer), got "${ctx.params['id']}"`);
  return parsed.data;
}

/** Findings: lists, summary, groups, clusters, one finding with its event, and triage. */
export function addFindingRoutes(router: Router, api: ApiContext): void {
  router.add('GET', '/v1/findings', 'viewer', (ctx) => {
    const q = parseQuery(findingsQuery, ctx.query);
    // The cursor is read in the same synchronous step as the list, so a stream opened with it hands over exactly.
    return api.store.transaction(() => ({
      json: { findings: api.store.findings.query({ ...q, sinceMs: q.since_ms, afterId: q.after_id }), cursor: api.store.feed.head() },
    }));
  });
  // The fixed paths come before `/v1/findings/:id`: the router takes the first match.
  router.add('GET', '/v1/findings/summary', 'viewer', (ctx) => {
    const { open_by_host: openByHost, ...filter } = parseQuery(summaryQuery, ctx.query);
    return { json: api.store.findings.summary(filter, { openByHost }) };
  });
  router.add('GET', '/v1/findings/groups', 'viewer', (ctx) => ({ json: { groups: api.store.findingViews.groups(parseQuery(groupsQuery, ctx.query)) } }));
  router.add('GET', '/v1/findings/clusters', 'viewer', (ctx) => ({ json: { clusters: api.store.findingViews.clusters(parseQuery(viewFilter, ctx.query)) } }));
  router.add('GET', '/v1/findings/:id', 'viewer', (ctx) => {
    const id = findingId(ctx);
    const detail = api.store.findings.get(id);
    if (!detail) throw new OkesuError('OKS_ERR_NOT_FOUND', `no finding ${id}`);
    return { json: detail };
  });

  router.add('POST', '/v1/findings/:id/triage', 'operator', async (ctx) => {
    const body = await ctx.body(triageRequestSchema);
    const id = findingId(ctx);
    const by = ctx.operator as NonNullable<typeof ctx.operator>;
    const now = api.now();
    // Status, group count, audit and feed entry commit together; the stream hears of it only after the commit.
    const done = api.store.transaction(() => {
      const change = api.store.triage.apply(id, body.status, body.scope);
      if (!change) throw new OkesuError('OKS_ERR_NOT_FOUND', `no finding ${id}`);
      const view: TriageView = {
        finding_id: id, fingerprint: change.fingerprint, scope: body.scope, status: body.status, reason: body.reason,
        updated: change.updated, by: by.name, role: by.role, ts: now,
      };
      api.store.audit.record(now, by, 'finding.triage', body.scope === 'group' ? change.fingerprint : String(id), {
        status: body.status, scope: body.scope, reason: body.reason, updated: change.updated,
      });
      return { view, cursor: api.store.feed.append(now, 'triage', view) };
    });
    api.feed.publish([{ cursor: done.cursor, kind: 'triage', payload: done.view }]);
    // A false positive may be a known-good exception of that host: offer the host policy entry that would drop it there.
    // Only offered: the host owner's policy is theirs (docs/security.md), the CP never writes it.
    const finding = body.status === 'false_positive' ? api.store.findings.get(id)?.finding : undefined;
    const answer: TriageAnswer = finding ? { ...done.view, suggested_suppress: suggestSuppression(finding, body.reason, now) } : done.view;
    return { json: answer };
  });
}
