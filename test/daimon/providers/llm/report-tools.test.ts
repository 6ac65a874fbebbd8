import { describe, expect, it } from 'vitest';
import { handleReportCall } from '../../../../daimon/providers/llm/report-tools.js';
import { recorder } from '../../run-helpers.js';

const call = (name: string, input: unknown) => ({ id: 'c1', name, input });

describe('handleReportCall', () => {
  it('leaves other tools alone and emits nothing for them', async () => {
    const { events, emit } = recorder();
    expect(await handleReportCall(call('bash', { command: 'id' }), { resultReported: false }, emit)).toBeUndefined();
    expect(events).toEqual([]);
  });

  it.each([
    ['a string instead of an object', 'HIGH: bad thing', /^finding not recorded: \(root\): /],
    ['a title over 120 characters', { severity: 'low', title: 'x'.repeat(121) }, /title: title is at most 120 characters/],
    ['an unknown category', { severity: 'low', title: 't', category: 'weather' }, /category: expected one of process, file/],
  ])('refuses report_finding with %s', async (_name, input, message) => {
    const { events, emit } = recorder();
    const reply = await handleReportCall(call('report_finding', input), { resultReported: false }, emit);
    expect(reply).toEqual({ content: expect.stringMatching(message), isError: true });
    expect(events.map((e) => e.type)).toEqual(['tool_call', 'tool_result']);
  });

  it('refuses report_result whose attributes are not an object, and still accepts a valid one after it', async () => {
    const { events, emit } = recorder();
    const state = { resultReported: false };
    const bad = await handleReportCall(call('report_result', { attributes: ['a'] }), state, emit);
    expect(bad).toEqual({ content: expect.stringMatching(/^result not recorded: attributes: /), isError: true });
    const good = await handleReportCall(call('report_result', { attributes: { ok: true } }), state, emit);
    expect(good).toEqual({ content: 'recorded', isError: false });
    expect(events.filter((e) => e.type === 'orchestration_result')).toEqual([{ type: 'orchestration_result', attributes: { ok: true } }]);
  });
});
