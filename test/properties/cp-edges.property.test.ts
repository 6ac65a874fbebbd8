import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { budget } from './budget.js';
import { findingRecord, runId, startCp, type CpHarness, type HostIdentity } from '../cp/cp-harness.js';

// Each case here is a real request to (or a real tunnel into) a CP: a costly case.
const runs = (short: number): ReturnType<typeof budget> => budget(short, { costly: true });

let h: CpHarness;
let host: HostIdentity;
beforeAll(async () => {
  // Hundreds of bad registrations and tokens from one address: the failed-authentication limit would (rightly) answer
  // 429 and then close connections; these properties are about what the parsers answer, so it is off here.
  h = await startCp({ options: { authLimit: { burst: 0 } } });
  host = await h.registerHost('fuzz-01');
});
afterAll(async () => {
  await h.close();
});

/** JSON-ish text: valid JSON of any shape, broken JSON, deep nesting, and near-misses of real bodies. */
const deep = fc.integer({ min: 100, max: 6000 }).chain((d) => fc.constantFrom(`{"inputs":${'{"a":'.repeat(d)}1${'}'.repeat(d)}}`, `${'['.repeat(d)}${']'.repeat(d)}`, `{"a":${'['.repeat(d)}`));
const nearBody = fc.record(
  {
    agent: fc.oneof(fc.string(), fc.constantFrom('sre-health', 'edr', '../etc/passwd')),
    host: fc.oneof(fc.string(), fc.constant('fuzz-01')),
    hosts: fc.array(fc.string(), { maxLength: 5 }),
    selector: fc.string(),
    inputs: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 4 })),
    prompt: fc.string(),
    timeout: fc.oneof(fc.string(), fc.integer()),
    kind: fc.constantFrom('operator', 'join', 'host', 'x'),
    role: fc.constantFrom('viewer', 'operator', 'admin', 'root'),
    ttl_ms: fc.oneof(fc.integer(), fc.double(), fc.string()),
    uses: fc.oneof(fc.integer(), fc.string()),
    name: fc.string(),
    status: fc.string(),
    scope: fc.string(),
    reason: fc.string(),
    labels: fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.constant(null))),
    spec: fc.string(),
    csr: fc.string(),
    token: fc.string(),
    hostname: fc.string(),
  },
  { requiredKeys: [] },
);
const validRunWithDeepInputs = fc.integer({ min: 100, max: 6000 }).map((d) => `{"agent":"sre-health","host":"fuzz-01","inputs":{"x":${'{"a":'.repeat(d)}1${'}'.repeat(d)}}}`);
const body = fc.oneof(
  validRunWithDeepInputs,
  fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v)),
  nearBody.map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  deep,
);

const WRITES: [string, string][] = [
  ['POST', '/v1/runs'],
  ['POST', '/v1/tokens'],
  ['POST', '/v1/register'],
  ['PUT', '/v1/hosts/fuzz-01/labels'],
  ['PUT', '/v1/orchestrations/fuzz'],
  ['POST', '/v1/orchestration-runs'],
  ['POST', '/v1/findings/1/triage'],
  ['POST', '/v1/runs/00000000000000000000000000/cancel'],
  ['POST', '/v1/notify/channels'],
  ['POST', '/v1/notify/channels/fuzz/test'],
];
const READS = ['/v1/runs', '/v1/findings', '/v1/findings/summary', '/v1/findings/groups', '/v1/findings/clusters', '/v1/audit', '/v1/orchestration-runs', '/v1/runs/x/events', '/v1/notify/channels', '/v1/notify/deliveries'];
const PARAMETRISED = ['/v1/runs/', '/v1/findings/', '/v1/orchestrations/', '/v1/orchestration-runs/', '/v1/hosts/', '/v1/notify/channels/'];

/** Every answer is a success or a catalogue error that says what was wrong: never a 5xx, never a bare body. */
function expectClearAnswer(status: number, answer: unknown, what: string): void {
  expect(status, what).toBeLessThan(500);
  if (status >= 400) {
    const error = (answer as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    expect(String(error?.code), what).toMatch(/^OKS_ERR_[A-Z_]+$/);
    expect(String(error?.message ?? '').length, what).toBeGreaterThan(0);
  }
}

const queryValue = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('-1', '0', '1e309', 'NaN', '99999999999999999999', '%', '%zz', '\u0000', 'HIGH', 'high'));
const query = fc.dictionary(fc.constantFrom('limit', 'after', 'after_id', 'severity', 'host', 'agent', 'category', 'since_ms', 'status', 'wait_ms', 'open_by_host', 'kinds', 'x'), queryValue, { maxKeys: 4 });
const segment = fc.oneof(fc.string({ maxLength: 40 }).map(encodeURIComponent), fc.constantFrom('%', '%E0%A4%A', '%ff', '..', '%2e%2e', '%00', 'a%2Fb', '9'.repeat(40)));

describe('the operator API at its edge (property, real CP)', () => {
  it('any body to any write endpoint gets a success or a clear 4xx, and the CP keeps answering', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...WRITES), body, async ([method, path], raw) => {
        const answer = await h.request(method, path, { raw });
        expectClearAnswer(answer.status, answer.body, `${method} ${path} ${raw.slice(0, 200)}`);
      }),
      runs(150),
    );
    expect((await h.request('GET', '/v1/health')).status).toBe(200);
  });

  it('any query string to any list endpoint gets a success or a clear 400', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...READS), query, async (path, params) => {
        const qs = Object.entries(params).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
        const answer = await h.request('GET', `${path}?${qs}`);
        expectClearAnswer(answer.status, answer.body, `GET ${path}?${qs}`);
      }),
      runs(150),
    );
  });

  it('any path parameter, including broken percent-encoding, gets a clear 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...PARAMETRISED), segment, async (prefix, seg) => {
        const answer = await h.request('GET', `${prefix}${seg}`);
        expectClearAnswer(answer.status, answer.body, `GET ${prefix}${seg}`);
      }),
      runs(100),
    );
  });
});

const recordLike = fc.record({ run_id: fc.oneof(fc.string(), fc.constant(runId())), seq: fc.oneof(fc.integer(), fc.double(), fc.string()), event: fc.jsonValue({ maxDepth: 4 }) }, { requiredKeys: [] });
const frame = fc.oneof(
  fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v)),
  fc.record({ type: fc.constantFrom('hello', 'heartbeat', 'events', 'dispatch_ack', 'error', 'x'), protocol: fc.jsonValue(), seq: fc.jsonValue(), records: fc.array(recordLike, { maxLength: 3 }), labels: fc.jsonValue(), running: fc.jsonValue(), code: fc.string(), message: fc.string() }, { requiredKeys: ['type'] }).map((v) => JSON.stringify(v)),
  fc.string({ unit: 'binary', maxLength: 300 }),
  // A deep value inside an otherwise valid record, built as text (JSON.stringify itself would overflow on it).
  fc.integer({ min: 100, max: 5000 }).map((d) => JSON.stringify({ type: 'events', records: [findingRecord(runId(), 1, { evidence: ['DEEP'] })] }).replace('"DEEP"', `${'['.repeat(d)}${']'.repeat(d)}`)),
);

describe('tunnel frames at the CP (property, real CP over mutual TLS)', () => {
  it('any frame is either handled or answered with an error frame naming the problem; the CP stays up', async () => {
    await fc.assert(
      fc.asyncProperty(frame, async (text) => {
        const opened = await h.openTunnel(host);
        if (!opened.ok) throw new Error(`tunnel refused: ${JSON.stringify(opened.refusal)}`);
        const socket = opened.socket;
        await socket.nextOfType('welcome');
        const before = socket.frames.length;
        socket.ws.send(text);
        // A valid frame gets its answer or none; an invalid one an error frame and a close. Probe with a heartbeat.
        socket.ws.send(JSON.stringify({ type: 'heartbeat', seq: 424242, ts: 0, running: 0, spool_depth: 0 }));
        const answer = await socket.next((f) => f.type === 'error' || (f.type === 'heartbeat_ack' && f['seq'] === 424242), { from: before, timeoutMs: 10_000 });
        if (answer.type === 'error') {
          expect(String(answer['code'])).toMatch(/^OKS_ERR_[A-Z_]+$/);
          expect(String(answer['message']).length).toBeGreaterThan(0);
        }
        socket.terminate();
      }),
      runs(60),
    );
    expect((await h.request('GET', '/v1/health')).status).toBe(200);
  });
});
