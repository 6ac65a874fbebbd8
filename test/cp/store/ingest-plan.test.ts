import { describe, expect, it } from 'vitest';
import { mergePlans, planIngest } from '../../../src/cp/store/ingest-plan.js';
import type { IngestItem } from '../../../src/cp/store/ingest.js';
import { findingRecord, record, runId, tickStart } from '../cp-harness.js';

describe('ingest plans', () => {
  const runA = runId();
  const runB = runId();
  const items: IngestItem[] = [
    { hostname: 'web-01', records: [tickStart(runA, 0), findingRecord(runA, 1, { evidence: ['connect 10.0.0.7:4444'] }), record(runA, 2, { type: 'text', text: 'hi' })] },
    { hostname: 'web-02', records: [findingRecord(runB, 5, { severity: 'nope' }), findingRecord(runB, 6), record(runB, 7, { type: 'run_end', status: 'completed' })] },
    { hostname: 'web-01', records: [findingRecord(runA, 3, { evidence: ['sha256 ' + 'a'.repeat(64)] })] },
  ];

  it('plans frames one by one and merges them into the plan of the whole batch', () => {
    const whole = planIngest(items);
    const merged = mergePlans(items.map((item) => planIngest([item])));
    expect(merged.plan).toEqual(whole.plan);
    expect(merged.local.fields).toEqual(whole.local.fields);
    expect(merged.local.keys).toEqual(whole.local.keys);
    expect([...merged.local.invalid]).toEqual([...whole.local.invalid]);
  });

  it('keeps what the writer needs as plain columns: record kinds, run records with their offsets, invalid findings aside', () => {
    const { plan, local } = planIngest(items);
    expect(plan.counts).toEqual([3, 3, 1]);
    expect(plan.kinds).toEqual([3, 1, 0, 2, 1, 4, 1]);
    expect(plan.runRecords).toEqual([
      { record: 0, tickAgent: 'edr', timeoutMs: null, end: null },
      { record: 5, tickAgent: null, timeoutMs: null, end: { status: 'completed', error: undefined } },
    ]);
    expect(plan.f.record).toEqual([1, 4, 6]);
    expect(local.invalid.get(3)).toMatch(/severity/);
    expect(JSON.parse(plan.bodies[1] as string)).toMatchObject({ host: 'web-01', run_id: runA, seq: 1 });
    expect(plan.f.indicatorCount.reduce((a, b) => a + b, 0)).toBe(plan.f.indicatorKeys.length);
  });
});
