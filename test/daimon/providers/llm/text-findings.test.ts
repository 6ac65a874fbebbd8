import { describe, expect, it } from 'vitest';
import { findingsInText } from '../../../../daimon/providers/llm/text-findings.js';

describe('findingsInText', () => {
  it.each([
    ['a typed finding line', '{"type":"finding","severity":"high","title":"A"}', ['HIGH:A']],
    ['severity + title without a type', '  {"severity":"LOW","title":"B"}  ', ['LOW:B']],
    ['several lines among prose', 'intro\n{"severity":"info","title":"C"}\nmiddle\n{"type":"finding","severity":"critical","title":"D"}', ['INFO:C', 'CRITICAL:D']],
    ['another event type', '{"type":"text","severity":"high","title":"E"}', []],
    ['an invalid severity', '{"type":"finding","severity":"SEVERE","title":"F"}', []],
    ['a missing title', '{"type":"finding","severity":"high"}', []],
    ['a title over 120 characters', JSON.stringify({ severity: 'high', title: 'x'.repeat(121) }), []],
    ['broken JSON', '{"severity":"high","title":"G"', []],
    ['a JSON array', '[{"severity":"high","title":"H"}]', []],
    ['JSON inside a sentence', 'I found {"severity":"high","title":"I"} here', []],
    ['plain prose', 'nothing to see', []],
  ])('%s', (_name, text, expected) => {
    expect(findingsInText(text).map((f) => `${f.severity}:${f.title}`)).toEqual(expected);
  });

  it('applies the finding defaults', () => {
    expect(findingsInText('{"severity":"medium","title":"T","evidence":"l1\\nl2"}')).toEqual([
      { severity: 'MEDIUM', title: 'T', category: 'other', resource: '', evidence: ['l1', 'l2'], dedup_key: '', tags: [], attributes: {} },
    ]);
  });
});
