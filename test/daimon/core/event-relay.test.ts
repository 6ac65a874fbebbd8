import { afterEach, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventBody } from '../../../src/protocol/event.js';
import { newId } from '../../../src/protocol/ids.js';
import { LIMITS } from '../../../src/protocol/limits.js';
import { eventRecordSchema } from '../../../src/protocol/tunnel.js';
import { createEventRelay, fitEvent, stampEvent } from '../../../daimon/event-relay.js';
import { openSpool } from '../../../daimon/spool/spool.js';
import type { Spool } from '../../../daimon/spool/spool.js';
import { createRedactor } from '../../../daimon/secrets/redact.js';
import { createSecretStore } from '../../../daimon/secrets/secret-store.js';
import { captureLogger, tempDir } from './helpers.js';

const RUN = newId('r');
const stamp = { runId: RUN, agent: 'edr', agentVersion: '1.2.0', host: 'web-01', seq: 7, now: 1000 };
const bytes = (v: unknown): number => Buffer.byteLength(JSON.stringify(v));

let spool: Spool | undefined;
afterEach(async () => {
  await spool?.close();
  spool = undefined;
});

describe('stampEvent', () => {
  it.each<[string, EventBody, Record<string, unknown>]>([
    ['adds ts when the body has none', { type: 'text', text: 'hi' }, { type: 'text', text: 'hi', ts: 1000 }],
    ['keeps a numeric ts', { type: 'text', ts: 42 }, { type: 'text', ts: 42 }],
    ['replaces a non-numeric ts and keeps it aside', { type: 'text', ts: 'yesterday' }, { type: 'text', ts: 1000, ts_raw: 'yesterday' }],
    [
      'overrides whatever identity the body claims',
      { type: 'finding', host: 'evil', run_id: 'r_x', seq: 1, agent: 'spoof', agent_version: '0' },
      { type: 'finding', host: 'web-01', run_id: RUN, seq: 7, agent: 'edr', agent_version: '1.2.0' },
    ],
    ['turns an invalid type into an error event', { type: 'Bad Type' }, { type: 'error', original_type: 'Bad Type', message: 'event with an invalid type' }],
  ])('%s', (_name, body, expected) => {
    const event = stampEvent(body, stamp);
    expect(event).toMatchObject({ host: 'web-01', agent: 'edr', agent_version: '1.2.0', run_id: RUN, seq: 7, ...expected });
    expect(eventRecordSchema.safeParse({ run_id: RUN, seq: 7, event }).success).toBe(true);
  });

  it('keeps an own __proto__ key of the body as data, never as the prototype, and the body keys first', () => {
    const body = JSON.parse('{"type":"finding","__proto__":{"polluted":1},"x":1}') as EventBody;
    const event = stampEvent(body, { ...stamp, now: 5 });
    expect(Object.getPrototypeOf(event)).toBe(Object.prototype);
    expect(Object.keys(event)).toEqual(['type', '__proto__', 'x', 'ts', 'host', 'agent', 'agent_version', 'run_id', 'seq']);
  });
});

describe('fitEvent', () => {
  const stamped = (extra: Record<string, unknown>): Record<string, unknown> => stampEvent({ type: 'tool_result', ...extra }, stamp);

  it('returns a small event unchanged', () => {
    const e = stamped({ output: 'ok' });
    expect(fitEvent(e)).toBe(e);
  });

  it.each([
    ['one huge string', { output: 'x'.repeat(1_000_000), tool: 'bash' }],
    ['multi-byte text', { output: '日本語'.repeat(200_000) }],
    ['text that grows when escaped', { output: '\u0001"\n'.repeat(300_000) }],
    ['many large strings in a nested array', { evidence: Array.from({ length: 20 }, (_, i) => `${i}:${'y'.repeat(40_000)}`), meta: { note: 'z'.repeat(100_000) } }],
  ])('cuts %s to the limit and marks it truncated, keeping the stamp', (_name, extra) => {
    const fitted = fitEvent(stamped(extra));
    expect(bytes(fitted)).toBeLessThanOrEqual(LIMITS.eventBytes);
    expect(fitted).toMatchObject({ truncated: true, type: 'tool_result', host: 'web-01', run_id: RUN, seq: 7, agent: 'edr' });
    expect(bytes(fitted)).toBeGreaterThan(LIMITS.eventBytes / 2);
  });

  it('keeps only the stamp and a note when no string is worth cutting', () => {
    const fitted = fitEvent(stamped({ numbers: Array.from({ length: 100_000 }, (_, i) => i) }));
    expect(fitted).toMatchObject({ type: 'tool_result', run_id: RUN, seq: 7, truncated: true });
    expect(fitted.numbers).toBeUndefined();
    expect(String(fitted.note)).toContain('fields were dropped');
  });

  it('does not touch the original', () => {
    const e = stamped({ output: 'x'.repeat(300_000) });
    fitEvent(e);
    expect((e.output as string).length).toBe(300_000);
  });
});

describe('event relay', () => {
  it('numbers each run from 1, spools stamped records durably and signals each append', async () => {
    const s = (spool = await openSpool({ dir: tempDir('relay') }));
    let appended = 0;
    const relay = createEventRelay({ spool: s, hostname: 'web-01', onAppended: () => appended++, log: captureLogger().log, now: () => 5 });
    const a = relay.open({ runId: newId('r'), agent: 'edr', agentVersion: '1' });
    const b = relay.open({ runId: newId('r'), agent: 'sre', agentVersion: '2' }, { firstSeq: 1_000_000_000 });
    await a.emit({ type: 'run_start' });
    await b.emit({ type: 'error', message: 'x' });
    await a.emit({ type: 'text', text: 'hi' });
    await Promise.all([a.emit({ type: 'text', text: 'one' }), a.emit({ type: 'text', text: 'two' })]);
    await Promise.all([a.flush(), b.flush()]);
    expect(appended).toBe(5);
    const pending = s.pending();
    expect(pending.map((r) => [r.run_id === a.runId ? 'a' : 'b', r.seq, r.event.type])).toEqual([
      ['a', 1, 'run_start'], ['b', 1_000_000_000, 'error'], ['a', 2, 'text'], ['a', 3, 'text'], ['a', 4, 'text'],
    ]);
    expect(pending.slice(3).map((r) => r.event.text)).toEqual(['one', 'two']);
    expect(pending[0]?.event).toEqual({ type: 'run_start', ts: 5, host: 'web-01', agent: 'edr', agent_version: '1', run_id: a.runId, seq: 1 });
    for (const r of pending) expect(eventRecordSchema.safeParse(r).success).toBe(true);
  });

  it('broadcasts to the runs that are open only', async () => {
    const s = (spool = await openSpool({ dir: tempDir('broadcast') }));
    const relay = createEventRelay({ spool: s, hostname: 'h', onAppended: () => undefined, log: captureLogger().log });
    const a = relay.open({ runId: newId('r'), agent: 'a', agentVersion: '' });
    const b = relay.open({ runId: newId('r'), agent: 'b', agentVersion: '' });
    b.close();
    expect(relay.openRuns()).toEqual([a.runId]);
    relay.broadcast({ type: 'spool_full', records: 10 });
    await s.flush();
    expect(s.pending().map((r) => [r.run_id, r.seq, r.event.type])).toEqual([[a.runId, 1, 'spool_full']]);
  });

  it.each([['alone', false], ['with the pre-check on its JSON', true]])('scrubs the secrets it is given from every event before the spool, also where the event is cut to size (redactor %s)', async (_label, preCheck) => {
    const key = 'sk-ant-api03-RELAYxKEYx0123456789';
    const dir = tempDir('redact');
    const s = (spool = await openSpool({ dir }));
    const redactor = createRedactor(createSecretStore({ ANTHROPIC_API_KEY: key }));
    const relay = createEventRelay({
      spool: s, hostname: 'h', onAppended: () => undefined, log: captureLogger().log, redact: redactor.value, ...(preCheck && { mayNeedRedaction: redactor.mayChange }),
    });
    const run = relay.open({ runId: newId('r'), agent: 'a', agentVersion: '' });
    const body = { type: 'finding', title: `key ${key}`, evidence: [`a${key}b`], attributes: { [key]: { deep: [key] } } };
    await run.emit(body);
    // Over the size limit, with the key all along the string: some copy sits where the cut falls.
    await run.emit({ type: 'tool_result', output: `${'x'.repeat(997)}${key}`.repeat(400) });
    relay.broadcast({ type: 'spool_full', note: key });
    await run.flush();
    await s.flush();
    const events = s.pending().map((r) => r.event);
    expect(events[0]).toMatchObject({ title: 'key [REDACTED:ANTHROPIC_API_KEY]', evidence: ['a[REDACTED:ANTHROPIC_API_KEY]b'], attributes: { '[REDACTED:ANTHROPIC_API_KEY]': { deep: ['[REDACTED:ANTHROPIC_API_KEY]'] } } });
    expect(events[1]).toMatchObject({ truncated: true });
    expect(events[2]).toMatchObject({ note: '[REDACTED:ANTHROPIC_API_KEY]' });
    expect(body.title).toBe(`key ${key}`);
    // What is on disk, every byte of it.
    const onDisk = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => readFileSync(join(e.parentPath, e.name), 'latin1')).join('');
    expect(onDisk).toContain('[REDACTED:ANTHROPIC_API_KEY]');
    expect(onDisk).not.toContain(key.slice(0, 16));
  });
});
