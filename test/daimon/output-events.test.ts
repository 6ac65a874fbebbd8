import { describe, expect, it } from 'vitest';
import { stderrLineToEvent, stdoutLineToEvent } from '../../daimon/run/output-events.js';

const out = (text: string, lineNo = 1, truncated = false) => stdoutLineToEvent({ text, truncated }, lineNo);

describe('stdoutLineToEvent', () => {
  it.each<[string, string, Record<string, unknown>]>([
    ['plain text', 'hello', { type: 'text', text: 'hello' }],
    ['a JSON string', '"hello"', { type: 'text', text: '"hello"' }],
    ['a JSON array', '[1]', { type: 'text', text: '[1]' }],
    ['malformed JSON', '{"type": ', { type: 'text', text: '{"type": ' }],
    ['an event', '{"type":"tool_call","tool":"bash"}', { type: 'tool_call', tool: 'bash' }],
    ['an unknown type', '{"type":"my_thing","x":1}', { type: 'my_thing', x: 1 }],
    ['a valid finding', '{"type":"finding","severity":"low","title":"t"}', { type: 'finding', severity: 'low', title: 't' }],
    ['run_start', '{"type":"run_start"}', { type: 'provider_run_start' }],
    ['run_end', '{"type":"run_end","status":"weird"}', { type: 'provider_run_end', status: 'weird' }],
    ['tick_done', '{"type":"tick_done"}', { type: 'provider_tick_done' }],
  ])('%s', (_label, text, expected) => {
    expect(out(text)).toEqual(expected);
  });

  it.each([
    ['a finding with a bad severity', '{"type":"finding","severity":"SEVERE","title":"t"}', /^stdout line 7: severity: /],
    ['a finding without title', '{"type":"finding","severity":"HIGH"}', /^stdout line 7: title: /],
    ['an object without type', '{"text":"x"}', /^stdout line 7: type: /],
    ['a bad type', '{"type":"Not OK"}', /^stdout line 7: type: type must be a lower_snake_case word/],
    ['a bad orchestration_result', '{"type":"orchestration_result","attributes":3}', /^stdout line 7: attributes: /],
  ])('%s → error event', (_label, text, message) => {
    expect(out(text, 7)).toEqual({ type: 'error', code: 'OKS_ERR_EVENT_INVALID', message: expect.stringMatching(message), raw: text });
  });

  it('quotes at most 4 KB of an invalid line', () => {
    const text = JSON.stringify({ type: 'finding', severity: 'nope', title: 'x'.repeat(10_000) });
    expect(String(out(text).raw)).toHaveLength(4096);
  });

  it('keeps a truncated line as truncated text, even if it starts like JSON', () => {
    expect(out('{"type":"text","text":"aaa', 1, true)).toEqual({ type: 'text', text: '{"type":"text","text":"aaa', truncated: true });
  });
});

describe('stderrLineToEvent', () => {
  it.each([
    [{ text: 'oops', truncated: false }, { type: 'text', stream: 'stderr', text: 'oops' }],
    [{ text: '{"type":"finding"}', truncated: false }, { type: 'text', stream: 'stderr', text: '{"type":"finding"}' }],
    [{ text: 'long', truncated: true }, { type: 'text', stream: 'stderr', text: 'long', truncated: true }],
  ])('%j', (line, expected) => {
    expect(stderrLineToEvent(line)).toEqual(expected);
  });
});
