import { rolloutViewSchema, type createRolloutRequestSchema, type RolloutView } from '../protocol/rollout.js';
import { replicasResponseSchema, type ReplicasResponse } from '../protocol/replicas.js';
import {
  channelTestResultSchema, channelViewSchema, deliveryViewSchema, type ChannelTestResult, type ChannelView, type CreateChannelInput, type DeliveryView,
} from '../protocol/notify-api.js';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { ERROR_CATALOGUE, OkesuError, isErrorCode } from '../errors.js';
import type { ClientConfig } from '../protocol/client-config.js';
import { auditEntrySchema, fanOutResponseSchema, findingSummarySchema, hostViewSchema, ROLES, runViewSchema, tokenViewSchema } from '../protocol/api.js';
import type {
  createRunRequestSchema, createTokenRequestSchema, fanOutRequestSchema, FanOutResponse, AuditEntry, FindingFilter, FindingSummary, HostView, Role, RunView, TokenView } from '../protocol/api.js';
import { describeIssues, runEventSchema } from '../protocol/event.js';
import type { RunEvent } from '../protocol/event.js';
import { storedFindingSchema } from '../protocol/finding.js';
import type { StoredFinding } from '../protocol/finding.js';
import { orchestrationRunViewSchema, orchestrationViewSchema, specErrorSchema } from '../protocol/orchestration-api.js';
import type { hostLabelsSchema, OrchestrationRunView, OrchestrationView, startOrchestrationSchema } from '../protocol/orchestration-api.js';
import { formatSpecError } from '../specs/spec-error.js';
import { normalHostView, normalList, normalStoredFinding } from './normal-views.js';
import { agentLibraryEntrySchema, findingClusterViewSchema, findingDetailSchema, findingGroupViewSchema, triageAnswerSchema } from '../protocol/findings-api.js';
import type {
  AgentLibraryEntry, FindingClusterView, FindingDetail, FindingGroupsQuery, FindingGroupView, triageRequestSchema, TriageAnswer } from '../protocol/findings-api.js';

/** Largest response body the client reads before giving up. */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;

// Answer envelopes of docs/api.md; the bodies inside them come from src/protocol.
const whoamiSchema = z.object({ name: z.string(), role: z.enum(ROLES), token_id: z.string() });
const hostsAnswer = z.object({ hosts: z.array(hostViewSchema) });
const hostRemovedAnswer = z.object({ hostname: z.string(), revoked: z.literal(true) });
const runAnswer = z.object({ run: runViewSchema });
const runsAnswer = z.object({ runs: z.array(runViewSchema) });
const runEventsAnswer = z.object({ run: runViewSchema, events: z.array(runEventSchema), next: z.number() });
const findingsAnswer = z.object({ findings: z.array(storedFindingSchema), cursor: z.number() });
/** `hostsAnswer` and `findingsAnswer` for answers in normal form (10,000 hosts: ~10x faster than zod, a copy less). */
const normalHostsAnswer = (body: unknown): { hosts: HostView[] } | undefined => {
  const hosts = typeof body === 'object' && body !== null ? normalList((body as { hosts?: unknown }).hosts, normalHostView) : undefined;
  return hosts === undefined ? undefined : { hosts };
};
const normalFindingsAnswer = (body: unknown): FindingsPage | undefined => {
  if (typeof body !== 'object' || body === null) return undefined;
  const { findings: raw, cursor } = body as { findings?: unknown; cursor?: unknown };
  const findings = typeof cursor === 'number' && Number.isFinite(cursor) ? normalList(raw, normalStoredFinding) : undefined;
  return findings === undefined ? undefined : { findings, cursor: cursor as number };
};
const tokenCreatedAnswer = z.object({ token: z.string(), view: tokenViewSchema });
const tokensAnswer = z.object({ tokens: z.array(tokenViewSchema) });
const tokenRevokedAnswer = z.object({ id: z.string(), revoked: z.literal(true) });
const auditAnswer = z.object({ entries: z.array(auditEntrySchema) });
const errorBodySchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
// A spec refusal may list where the YAML is wrong, inside `error` or beside it; an unwrapped `{code, message}` is accepted too.
const specErrorsSchema = z.object({ errors: z.array(specErrorSchema) });
const bareErrorSchema = z.object({ code: z.string().regex(/^OKS_ERR_/), message: z.string() });

/** Accepts a body bare or wrapped in `{key: body}` (the orchestration endpoints answer views; the older ones wrap them). */
function envelope<T>(schema: z.ZodType<T>, key: string): z.ZodType<T> {
  const unwrap = (body: unknown): unknown =>
    body !== null && typeof body === 'object' && !Array.isArray(body) && Object.hasOwn(body, key) ? (body as Record<string, unknown>)[key] : body;
  return z.preprocess(unwrap, schema);
}
const orchestrationAnswer = envelope(orchestrationViewSchema, 'orchestration');
const orchestrationsAnswer = envelope(z.array(orchestrationViewSchema), 'orchestrations');
const orchestrationSpecAnswer = z.object({ view: orchestrationViewSchema, spec: z.string() });
const orchestrationRunAnswer = envelope(orchestrationRunViewSchema, 'run');
const orchestrationRunsAnswer = envelope(z.array(orchestrationRunViewSchema), 'runs');
const hostAnswer = envelope(hostViewSchema, 'host');

/** Who the configured token is. */
export interface WhoAmI { name: string; role: Role; token_id: string }
/** A page of run events from the long-poll endpoint; `next` is the `after` for the following call. */
export interface RunEventsPage { run: RunView; events: RunEvent[]; next: number }
/** Findings and the stream cursor consistent with them. */
export interface FindingsPage { findings: StoredFinding[]; cursor: number }
/** Query of `GET /v1/findings`. */
/** `after_id` pages oldest first (findings with a larger id); without it the newest `limit` come back, oldest first. */
export type FindingsQuery = FindingFilter & { since_ms?: number; after_id?: number; limit?: number };
/** Query of `GET /v1/runs`. */
export interface RunsQuery { host?: string; agent?: string; limit?: number }
/** Body of `POST /v1/runs` before defaults. */
export type CreateRunInput = z.input<typeof createRunRequestSchema>;
/** Body of a fan-out `POST /v1/runs` (`hosts` or `selector`) before defaults. */
export type CreateRunsInput = z.input<typeof fanOutRequestSchema>;
/** Body of `POST /v1/tokens` before defaults. */
export type CreateTokenInput = z.input<typeof createTokenRequestSchema>;
/** A freshly created token: the secret (shown once) and its listing. */
export interface CreatedToken { token: string; view: TokenView }
/** Body of `POST /v1/orchestration-runs` (a stored name or an inline spec, and the inputs) before defaults. */
export type StartOrchestrationInput = z.input<typeof startOrchestrationSchema>;
/** Body of `PUT /v1/hosts/:host/labels` before defaults. */
export type HostLabelsInput = z.input<typeof hostLabelsSchema>;
/** Body of `POST /v1/findings/:id/triage` before defaults. */
export type TriageInput = z.input<typeof triageRequestSchema>;
/** Body of `POST /v1/rollouts` before defaults. */
export type CreateRolloutInput = z.input<typeof createRolloutRequestSchema>;
/** A stored orchestration with its YAML text. */
export interface StoredOrchestration { view: OrchestrationView; spec: string }

/** Typed access to every operator endpoint of the CP (docs/api.md), shared by the CLI and the console. */
export interface OperatorClient {
  whoami(): Promise<WhoAmI>;
  hosts(): Promise<HostView[]>;
  removeHost(hostname: string): Promise<{ hostname: string; revoked: true }>;
  createRun(request: CreateRunInput): Promise<RunView>;
  /** One dispatch to many hosts (a list or a selector). */
  createRuns(request: CreateRunsInput): Promise<FanOutResponse>;
  listRuns(query?: RunsQuery): Promise<RunView[]>;
  getRun(id: string): Promise<RunView>;
  /** Events with seq > `after` (all when undefined), waiting up to `waitMs` for new ones. */
  runEvents(id: string, after: number | undefined, waitMs: number): Promise<RunEventsPage>;
  cancelRun(id: string, reason?: string): Promise<RunView>;
  findings(query?: FindingsQuery): Promise<FindingsPage>;
  findingsSummary(filter?: FindingFilter): Promise<FindingSummary>;
  createToken(request: CreateTokenInput): Promise<CreatedToken>;
  listTokens(): Promise<TokenView[]>;
  revokeToken(id: string): Promise<{ id: string; revoked: true }>;
  audit(limit?: number): Promise<AuditEntry[]>;
  /** Stores or replaces an orchestration from its YAML text (its `name:` must equal `name`). */
  applyOrchestration(name: string, spec: string): Promise<OrchestrationView>;
  listOrchestrations(): Promise<OrchestrationView[]>;
  getOrchestration(name: string): Promise<StoredOrchestration>;
  /** Starts a run of a stored orchestration (`name`) or of an inline spec (`spec`, not stored). */
  startOrchestration(request: StartOrchestrationInput): Promise<OrchestrationRunView>;
  /** Orchestration runs, newest first. */
  listOrchestrationRuns(query?: { limit?: number }): Promise<OrchestrationRunView[]>;
  getOrchestrationRun(id: string): Promise<OrchestrationRunView>;
  approveStep(runId: string, step: string, reason?: string): Promise<OrchestrationRunView>;
  rejectStep(runId: string, step: string, reason?: string): Promise<OrchestrationRunView>;
  cancelOrchestrationRun(id: string, reason?: string): Promise<OrchestrationRunView>;
  /** Sets and removes operator labels of a host (used by `nodes_selector`). */
  setHostLabels(host: string, change: HostLabelsInput): Promise<HostView>;
  /** Summary with `open_by_host` filled (the console's per-host open findings). */
  findingsSummaryByHost(filter?: FindingFilter): Promise<FindingSummary>;
  /** One finding and its raw event. */
  getFinding(id: number): Promise<FindingDetail>;
  /** Sets the triage status of a finding, or of every finding of its group (`scope: 'group'`); a false positive comes with a suggested host suppression. */
  triageFinding(id: number, request: TriageInput): Promise<TriageAnswer>;
  /** Fingerprint groups, most recently seen first. */
  findingGroups(query?: FindingGroupsQuery): Promise<FindingGroupView[]>;
  /** Indicators shared by at least two findings, the most findings first. */
  findingClusters(query?: FindingGroupsQuery): Promise<FindingClusterView[]>;
  /** The agent definitions the CP dispatches (its library). */
  listAgents(): Promise<AgentLibraryEntry[]>;
  /** Starts a rollout of a stored release (admin); the answer lists its hosts. */
  createRollout(request: CreateRolloutInput): Promise<RolloutView>;
  /** Rollouts, newest first, without hosts. */
  listRollouts(query?: { limit?: number }): Promise<RolloutView[]>;
  /** One rollout with its hosts. */
  getRollout(id: string): Promise<RolloutView>;
  cancelRollout(id: string): Promise<RolloutView>;
  /** The CP's replicas (a single CP lists itself), which one leads and which one answered. */
  replicas(): Promise<ReplicasResponse>;
  /** Alert delivery (docs/notifications.md): channels (secrets never come back) and the delivery log. */
  listChannels(): Promise<ChannelView[]>;
  addChannel(request: CreateChannelInput): Promise<ChannelView>;
  removeChannel(name: string): Promise<{ name: string; removed: true }>;
  testChannel(name: string): Promise<ChannelTestResult>;
  deliveries(query?: { channel?: string; limit?: number }): Promise<DeliveryView[]>;
}

type Query = Record<string, string | number | undefined>;

interface Call<T> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  query?: Query;
  body?: unknown;
  answer: z.ZodType<T>;
  /** `answer`'s value for a body already in normal form, cheaply (normal-views.ts); undefined sends it to `answer`. */
  normal?: (body: unknown) => T | undefined;
  timeoutMs?: number;
}

/** Builds an operator API client for one CP context; every answer is validated before it is returned. */
export function createOperatorClient(config: ClientConfig, opts: { timeoutMs?: number } = {}): OperatorClient {
  const agent = new https.Agent({ ca: config.ca, keepAlive: true });
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const call = <T>(c: Call<T>): Promise<T> => request(config, agent, { ...c, timeoutMs: c.timeoutMs ?? timeoutMs });
  const seg = encodeURIComponent;
  const reasonBody = (reason: string | undefined): { reason?: string } => (reason === undefined ? {} : { reason });

  return {
    whoami: () => call({ method: 'GET', path: '/v1/whoami', answer: whoamiSchema }),
    hosts: async () => (await call({ method: 'GET', path: '/v1/hosts', answer: hostsAnswer, normal: normalHostsAnswer })).hosts,
    removeHost: (hostname) => call({ method: 'DELETE', path: `/v1/hosts/${seg(hostname)}`, answer: hostRemovedAnswer }),
    createRun: async (body) => (await call({ method: 'POST', path: '/v1/runs', body, answer: runAnswer })).run,
    createRuns: (body) => call({ method: 'POST', path: '/v1/runs', body, answer: fanOutResponseSchema }),
    listRuns: async (query = {}) => (await call({ method: 'GET', path: '/v1/runs', query: { ...query }, answer: runsAnswer })).runs,
    getRun: async (id) => (await call({ method: 'GET', path: `/v1/runs/${seg(id)}`, answer: runAnswer })).run,
    runEvents: (id, after, waitMs) =>
      call({
        method: 'GET',
        path: `/v1/runs/${seg(id)}/events`,
        query: { after, wait_ms: waitMs },
        answer: runEventsAnswer,
        // A long poll legitimately stays silent for up to waitMs.
        timeoutMs: Math.max(timeoutMs, waitMs + 10_000),
      }),
    cancelRun: async (id, reason) =>
      (await call({ method: 'POST', path: `/v1/runs/${seg(id)}/cancel`, body: reason === undefined ? {} : { reason }, answer: runAnswer })).run,
    findings: (query = {}) => call({ method: 'GET', path: '/v1/findings', query: { ...query }, answer: findingsAnswer, normal: normalFindingsAnswer }),
    findingsSummary: (filter = {}) => call({ method: 'GET', path: '/v1/findings/summary', query: { ...filter }, answer: findingSummarySchema }),
    createToken: (body) => call({ method: 'POST', path: '/v1/tokens', body, answer: tokenCreatedAnswer }),
    listTokens: async () => (await call({ method: 'GET', path: '/v1/tokens', answer: tokensAnswer })).tokens,
    revokeToken: (id) => call({ method: 'DELETE', path: `/v1/tokens/${seg(id)}`, answer: tokenRevokedAnswer }),
    audit: async (limit) => (await call({ method: 'GET', path: '/v1/audit', query: { limit }, answer: auditAnswer })).entries,
    applyOrchestration: (name, spec) => call({ method: 'PUT', path: `/v1/orchestrations/${seg(name)}`, body: { spec }, answer: orchestrationAnswer }),
    listOrchestrations: () => call({ method: 'GET', path: '/v1/orchestrations', answer: orchestrationsAnswer }),
    getOrchestration: (name) => call({ method: 'GET', path: `/v1/orchestrations/${seg(name)}`, answer: orchestrationSpecAnswer }),
    startOrchestration: (body) => call({ method: 'POST', path: '/v1/orchestration-runs', body, answer: orchestrationRunAnswer }),
    listOrchestrationRuns: (query = {}) => call({ method: 'GET', path: '/v1/orchestration-runs', query: { ...query }, answer: orchestrationRunsAnswer }),
    getOrchestrationRun: (id) => call({ method: 'GET', path: `/v1/orchestration-runs/${seg(id)}`, answer: orchestrationRunAnswer }),
    approveStep: (id, step, reason) =>
      call({ method: 'POST', path: `/v1/orchestration-runs/${seg(id)}/steps/${seg(step)}/approve`, body: reasonBody(reason), answer: orchestrationRunAnswer }),
    rejectStep: (id, step, reason) =>
      call({ method: 'POST', path: `/v1/orchestration-runs/${seg(id)}/steps/${seg(step)}/reject`, body: reasonBody(reason), answer: orchestrationRunAnswer }),
    cancelOrchestrationRun: (id, reason) =>
      call({ method: 'POST', path: `/v1/orchestration-runs/${seg(id)}/cancel`, body: reasonBody(reason), answer: orchestrationRunAnswer }),
    findingsSummaryByHost: (filter = {}) =>
      call({ method: 'GET', path: '/v1/findings/summary', query: { ...filter, open_by_host: 1 }, answer: findingSummarySchema }),
    getFinding: (id) => call({ method: 'GET', path: `/v1/findings/${id}`, answer: findingDetailSchema }),
    triageFinding: (id, body) => call({ method: 'POST', path: `/v1/findings/${id}/triage`, body, answer: triageAnswerSchema }),
    findingGroups: async (query = {}) =>
      (await call({ method: 'GET', path: '/v1/findings/groups', query: { ...query }, answer: z.object({ groups: z.array(findingGroupViewSchema) }) })).groups,
    findingClusters: async (query = {}) =>
      (await call({ method: 'GET', path: '/v1/findings/clusters', query: { ...query }, answer: z.object({ clusters: z.array(findingClusterViewSchema) }) })).clusters,
    listAgents: async () => (await call({ method: 'GET', path: '/v1/agents', answer: z.object({ agents: z.array(agentLibraryEntrySchema) }) })).agents,
    setHostLabels: (host, change) => call({ method: 'PUT', path: `/v1/hosts/${seg(host)}/labels`, body: change, answer: hostAnswer }),
    createRollout: (body) => call({ method: 'POST', path: '/v1/rollouts', body, answer: rolloutViewSchema }),
    listRollouts: async (query = {}) => (await call({ method: 'GET', path: '/v1/rollouts', query: { ...query }, answer: z.object({ rollouts: z.array(rolloutViewSchema) }) })).rollouts,
    getRollout: (id) => call({ method: 'GET', path: `/v1/rollouts/${seg(id)}`, answer: rolloutViewSchema }),
    cancelRollout: (id) => call({ method: 'POST', path: `/v1/rollouts/${seg(id)}/cancel`, body: {}, answer: rolloutViewSchema }),
    replicas: () => call({ method: 'GET', path: '/v1/replicas', answer: replicasResponseSchema }),
    listChannels: async () => (await call({ method: 'GET', path: '/v1/notify/channels', answer: z.object({ channels: z.array(channelViewSchema) }) })).channels,
    addChannel: async (body) => (await call({ method: 'POST', path: '/v1/notify/channels', body, answer: z.object({ channel: channelViewSchema }) })).channel,
    removeChannel: (name) => call({ method: 'DELETE', path: `/v1/notify/channels/${seg(name)}`, answer: z.object({ name: z.string(), removed: z.literal(true) }) }),
    // A test waits for the endpoint: its send timeout (10 s) and then some.
    testChannel: (name) => call({ method: 'POST', path: `/v1/notify/channels/${seg(name)}/test`, body: {}, answer: channelTestResultSchema, timeoutMs: Math.max(timeoutMs, 30_000) }),
    deliveries: async (query = {}) => (await call({ method: 'GET', path: '/v1/notify/deliveries', query: { ...query }, answer: z.object({ deliveries: z.array(deliveryViewSchema) }) })).deliveries,
  };
}

/** The URL of `path` on the configured CP, with the defined query parameters. */
export function apiUrl(cp: string, path: string, query: Query = {}): URL {
  const url = new URL(path, cp);
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') url.searchParams.set(key, String(value));
  }
  return url;
}

/** Turns a non-2xx answer or an `{error}` body into an OkesuError carrying the CP's code. */
export function errorFromBody(status: number, body: unknown): OkesuError {
  const wrapped = errorBodySchema.safeParse(body);
  const error = wrapped.success ? wrapped.data.error : bareErrorSchema.safeParse(body).data;
  if (error === undefined) return new OkesuError('OKS_ERR_INTERNAL', `CP answered HTTP ${status} without an error body`);
  const message = error.message + specErrorLines(wrapped.success ? (body as { error: unknown }).error : undefined, body);
  if (!isErrorCode(error.code)) return new OkesuError('OKS_ERR_INTERNAL', `${error.code}: ${message}`);
  return withMessage(new OkesuError(error.code), message);
}

/** The `errors: SpecError[]` of a spec refusal, one `file:line:col: field: message` line each. */
function specErrorLines(...places: unknown[]): string {
  for (const place of places) {
    const found = specErrorsSchema.safeParse(place);
    if (found.success && found.data.errors.length > 0) return found.data.errors.map((e) => `\n  ${formatSpecError(e)}`).join('');
  }
  return '';
}

/** An OkesuError whose message is exactly the CP's (it already starts with the catalogue text). */
function withMessage(err: OkesuError, message: string): OkesuError {
  const base = ERROR_CATALOGUE[err.code].message;
  if (message !== '' && message !== base) err.message = message;
  return err;
}

/**
 * A pooled keep-alive connection the CP closes as idle (Node's keepAliveTimeout) can be picked for a request in the
 * same instant: the request dies with ECONNRESET before the CP read it. Such a request is sent once more on a new
 * connection (Node's documented `reusedSocket` pattern); any other failure is reported as it is.
 */
async function request<T>(config: ClientConfig, agent: https.Agent, c: Call<T> & { timeoutMs: number }): Promise<T> {
  try {
    return await requestOnce(config, agent, c);
  } catch (err) {
    // Only a request that changes nothing when repeated: behind a balancer a reset can also follow a request the CP did
    // take (a replica killed after its commit), and a run or an approval must not be made twice.
    if (err instanceof StaleConnectionError && IDEMPOTENT.has(c.method)) return requestOnce(config, agent, c);
    if (err instanceof StaleConnectionError) throw new OkesuError('OKS_ERR_CP_UNREACHABLE', `${config.cp}: ${err.message}`);
    throw err;
  }
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);

/** A request lost on a reused connection the server had just closed. */
class StaleConnectionError extends Error {}

function requestOnce<T>(config: ClientConfig, agent: https.Agent, c: Call<T> & { timeoutMs: number }): Promise<T> {
  const url = apiUrl(config.cp, c.path, c.query);
  const payload = c.body === undefined ? undefined : JSON.stringify(c.body);
  const headers: Record<string, string | number> = {
    authorization: `Bearer ${config.token}`,
    accept: 'application/json',
  };
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(payload);
  }
  return new Promise<T>((resolve, reject) => {
    const req = https.request(url, { method: c.method, agent, headers, timeout: c.timeoutMs }, (res) => {
      readBody(res).then(
        (text) => {
          try {
            resolve(decode(res.statusCode ?? 0, text, c, `${c.method} ${url.pathname}`));
          } catch (err) {
            reject(err);
          }
        },
        (err: unknown) => reject(err),
      );
    });
    req.on('timeout', () => req.destroy(new OkesuError('OKS_ERR_CP_UNREACHABLE', `${config.cp}: no answer within ${c.timeoutMs} ms`)));
    req.on('error', (err) => {
      if (req.reusedSocket && (err as NodeJS.ErrnoException).code === 'ECONNRESET' && !(err instanceof OkesuError)) reject(new StaleConnectionError(err.message));
      else reject(err instanceof OkesuError ? err : new OkesuError('OKS_ERR_CP_UNREACHABLE', `${config.cp}: ${reason(err)}`));
    });
    req.end(payload);
  });
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_RESPONSE_BYTES) {
        res.destroy();
        reject(new OkesuError('OKS_ERR_FRAME_TOO_LARGE', `CP answer exceeds ${MAX_RESPONSE_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', (err) => reject(new OkesuError('OKS_ERR_CP_UNREACHABLE', reason(err))));
  });
}

function decode<T>(status: number, text: string, c: Pick<Call<T>, 'answer' | 'normal'>, what: string): T {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    if (status >= 400) throw new OkesuError('OKS_ERR_INTERNAL', `${what}: HTTP ${status}`);
    throw new OkesuError('OKS_ERR_BAD_FRAME', `${what}: answer is not JSON`);
  }
  if (status >= 400 || errorBodySchema.safeParse(body).success) throw errorFromBody(status, body);
  const normal = c.normal?.(body);
  if (normal !== undefined) return normal;
  const parsed = c.answer.safeParse(body);
  if (!parsed.success) throw new OkesuError('OKS_ERR_BAD_FRAME', `${what}: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** A short reason for a socket or TLS failure, e.g. `connect ECONNREFUSED 127.0.0.1:8443`. */
export function reason(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}
