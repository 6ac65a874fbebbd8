import { z } from 'zod';
import { OkesuError } from '../../errors.js';
import { applyOrchestrationSchema, decisionSchema, startOrchestrationSchema } from '../../protocol/orchestration-api.js';
import type { SpecError } from '../../specs/yaml-spec.js';
import { parseOrchestration } from '../../specs/orchestration/parse-orchestration.js';
import type { OrchestrationSpec } from '../../specs/orchestration/orchestration-types.js';
import type { Reply, Router } from '../http/router.js';
import type { OperatorIdentity } from '../http/operator-auth.js';
import type { OrchestrationEngine } from '../orchestration/engine.js';
import type { Triggers } from '../orchestration/triggers.js';
import { orchestrationView, runView } from '../orchestration/views.js';
import { parseQuery } from './parse-query.js';
import type { ApiContext } from './context.js';

const listQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });

/** What the orchestration routes use besides the API context. */
export interface OrchestrationApi {
  engine: OrchestrationEngine;
  triggers: Triggers;
}

/**
 * The 400 answer for a spec that does not parse: `{code, message, errors}` with every located error (file, line,
 * column, field), and the same code and message under `error` as every other error body has them.
 */
function specInvalid(errors: readonly SpecError[]): Reply {
  const message = new OkesuError('OKS_ERR_SPEC_INVALID', `${errors.length} error${errors.length === 1 ? '' : 's'}`).message;
  return { status: 400, json: { code: 'OKS_ERR_SPEC_INVALID', message, errors, error: { code: 'OKS_ERR_SPEC_INVALID', message } } };
}

const operatorOf = (op: OperatorIdentity | undefined): OperatorIdentity => op as OperatorIdentity;

/** Orchestrations (store, list, show) and their runs (start, list, show, approve, reject, cancel), SPEC §6. */
export function addOrchestrationRoutes(router: Router, api: ApiContext, orch: OrchestrationApi): void {
  const repo = api.store.orchestrations;

  router.add('PUT', '/v1/orchestrations/:name', 'operator', async (ctx) => {
    const name = ctx.params['name'] as string;
    const body = await ctx.body(applyOrchestrationSchema);
    const parsed = parseOrchestration(body.spec, '<api>');
    if (!parsed.ok) return specInvalid(parsed.errors);
    if (parsed.spec.name !== name) throw new OkesuError('OKS_ERR_BAD_REQUEST', `the spec is named ${parsed.spec.name} but was applied as ${name}; the two must match`);
    const by = operatorOf(ctx.operator);
    const now = api.now();
    const record = { name, yaml: body.spec, spec: parsed.spec, updated_at: now, updated_by: by.name };
    api.store.transaction(() => {
      repo.putOrchestration(record);
      api.store.audit.record(now, by, 'orchestration.apply', name, { steps: parsed.spec.steps.length, triggers: parsed.spec.triggers.length });
    });
    orch.triggers.update(parsed.spec);
    return { json: orchestrationView(record) };
  });
  router.add('GET', '/v1/orchestrations', 'viewer', () => ({ json: repo.listOrchestrations().map(orchestrationView) }));
  router.add('GET', '/v1/orchestrations/:name', 'viewer', (ctx) => {
    const record = repo.getOrchestration(ctx.params['name'] as string);
    if (!record) throw new OkesuError('OKS_ERR_NOT_FOUND', `no orchestration named ${ctx.params['name']}`);
    return { json: { view: orchestrationView(record), spec: record.yaml } };
  });

  router.add('POST', '/v1/orchestration-runs', 'operator', async (ctx) => {
    const body = await ctx.body(startOrchestrationSchema);
    let spec: OrchestrationSpec;
    if (body.spec !== undefined) {
      const parsed = parseOrchestration(body.spec, '<api>');
      if (!parsed.ok) return specInvalid(parsed.errors);
      spec = parsed.spec;
    } else {
      const record = repo.getOrchestration(body.name as string);
      if (!record) throw new OkesuError('OKS_ERR_NOT_FOUND', `no orchestration named ${body.name} (apply it first: okesu orchestrate apply FILE)`);
      spec = record.spec;
    }
    return { status: 201, json: await orch.engine.run(spec, body.inputs, operatorOf(ctx.operator)) };
  });
  router.add('GET', '/v1/orchestration-runs', 'viewer', (ctx) => {
    const q = parseQuery(listQuery, ctx.query);
    return { json: repo.listRuns(q.limit).map((run) => runView(run, repo.steps(run.id), repo.hosts(run.id))) };
  });
  router.add('GET', '/v1/orchestration-runs/:id', 'viewer', (ctx) => ({ json: orch.engine.view(ctx.params['id'] as string) }));
  router.add('POST', '/v1/orchestration-runs/:id/steps/:step/approve', 'operator', async (ctx) => {
    const body = await ctx.body(decisionSchema);
    return { json: await orch.engine.approve(ctx.params['id'] as string, ctx.params['step'] as string, operatorOf(ctx.operator), body.reason) };
  });
  router.add('POST', '/v1/orchestration-runs/:id/steps/:step/reject', 'operator', async (ctx) => {
    const body = await ctx.body(decisionSchema);
    return { json: await orch.engine.reject(ctx.params['id'] as string, ctx.params['step'] as string, operatorOf(ctx.operator), body.reason) };
  });
  router.add('POST', '/v1/orchestration-runs/:id/cancel', 'operator', async (ctx) => {
    const body = await ctx.body(decisionSchema);
    return { json: await orch.engine.cancel(ctx.params['id'] as string, operatorOf(ctx.operator), body.reason) };
  });
}
