import { describe, expect, it } from 'vitest';
import { ExpressionError } from '../../../src/specs/expr/evaluate.js';
import {
  isSingleExpression,
  parseTemplate,
  renderTemplate,
  templateRefs,
  unwrapBraces,
} from '../../../src/specs/expr/template.js';
import type { Template } from '../../../src/specs/expr/template.js';

const scope: Record<string, unknown> = {
  trigger: { host: 'web-1', pid: 4242, ratio: 0.5, flag: false, nil: null, tags: ['a', 'b'] },
  scan: {
    status: 'completed',
    result: { ioc: '10.0.0.7', meta: { k: 'v' }, hostile: '{{trigger.host}}' },
    findings: [{ severity: 'HIGH' }],
    nodes: ['web-1', 'web-2'],
    byNode: { 'web-1': { result: { pid: 7 } } },
  },
};

function template(source: string): Template {
  const parsed = parseTemplate(source);
  if (!parsed.ok) throw new Error(`unexpected parse error: ${parsed.error}`);
  return parsed.template;
}

describe('renderTemplate', () => {
  it.each<[string, string, string]>([
    ['plain text', 'no placeholders here', 'no placeholders here'],
    ['empty', '', ''],
    ['a string', 'check {{trigger.host}}', 'check web-1'],
    ['whitespace inside the braces', '{{ trigger.host }}/{{\ttrigger.host\n}}', 'web-1/web-1'],
    ['an integer', 'around process {{trigger.pid}}', 'around process 4242'],
    ['a float', '{{trigger.ratio}}', '0.5'],
    ['a boolean', '{{trigger.flag}}', 'false'],
    ['null renders empty', '[{{trigger.nil}}]', '[]'],
    ['a missing path renders empty', '[{{scan.result.nope}}][{{nope.x}}]', '[][]'],
    ['a list as JSON', '{{trigger.tags}}', '["a","b"]'],
    ['an object as JSON', '{{scan.result.meta}}', '{"k":"v"}'],
    ['a list of objects as JSON', '{{scan.findings}}', '[{"severity":"HIGH"}]'],
    ['the json filter on a string quotes it', '{{trigger.host | json}}', '"web-1"'],
    ['the length filter', '{{scan.nodes | length}} hosts', '2 hosts'],
    ['the first filter', '{{scan.nodes | first}}', 'web-1'],
    ['the last filter', '{{scan.nodes | last}}', 'web-2'],
    ['byNode with a quoted host', 'pid {{scan.byNode["web-1"].result.pid}}', 'pid 7'],
    ['byNode with a computed host', 'pid {{scan.byNode[trigger.host].result.pid}}', 'pid 7'],
    ['a comparison', "{{scan.status == 'completed'}}", 'true'],
    ['a string literal', "{{ 'lit' }}", 'lit'],
    ['a literal {{ through a string', "{{ '{{' }} x }}", '{{ x }}'],
    ['a }} inside a string does not close', "{{ '}}' }}", '}}'],
    ['a double-quoted }} inside a string', '{{ "a}}b" }}!', 'a}}b!'],
    ['an escaped quote inside a string', String.raw`{{ 'it\'s }}' }}`, "it's }}"],
    ['several on a line', '{{trigger.host}}:{{trigger.pid}}:{{trigger.host}}', 'web-1:4242:web-1'],
    ['text around', 'a {{trigger.host}} b {{scan.status}} c', 'a web-1 b completed c'],
    ['adjacent placeholders', '{{trigger.pid}}{{trigger.pid}}', '42424242'],
    ['a lone brace is text', '{ x } }} {', '{ x } }} {'],
    ['a stray }} is text', 'a }} b', 'a }} b'],
    ['values are not expanded again', '{{scan.result.hostile}}', '{{trigger.host}}'],
    ['prototype names are missing', '[{{constructor}}][{{trigger.host.length}}][{{__proto__}}]', '[][][]'],
    ['multi-line text', 'line 1\n{{trigger.host}}\nline 3', 'line 1\nweb-1\nline 3'],
  ])('%s', (_name, source, expected) => {
    expect(renderTemplate(template(source), scope)).toBe(expected);
  });

  it('throws an ExpressionError naming the placeholder that failed', () => {
    const t = template("sweep {{ trigger.pid > 'x' }} now");
    expect(() => renderTemplate(t, scope)).toThrow(ExpressionError);
    expect(() => renderTemplate(t, scope)).toThrow(`in "trigger.pid > 'x'": cannot compare a number with a string using >`);
  });

  it('names a value that cannot be written as JSON instead of crashing', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => renderTemplate(template('{{ c }}'), { c: cyclic })).toThrow(/^in "c": cannot write the value as JSON/);
  });
});

describe('parseTemplate', () => {
  it('splits text and placeholders, keeping each placeholder source trimmed', () => {
    const t = template('sweep for {{ scan.result.ioc | json }} on {{trigger.host}}');
    expect(t.source).toBe('sweep for {{ scan.result.ioc | json }} on {{trigger.host}}');
    expect(t.parts.map((p) => ('text' in p ? { text: p.text } : { source: p.source }))).toEqual([
      { text: 'sweep for ' },
      { source: 'scan.result.ioc | json' },
      { text: ' on ' },
      { source: 'trigger.host' },
    ]);
  });

  it('keeps a template without placeholders as one text part', () => {
    expect(template('just text').parts).toEqual([{ text: 'just text' }]);
    expect(template('').parts).toEqual([]);
  });

  it.each<[string, string]>([
    ['a {{ host', 'unclosed {{ at 2 in "a {{ host"'],
    ['{{', 'unclosed {{ at 0 in "{{"'],
    ['{{a}} and {{ b }', 'unclosed {{ at 10 in "{{a}} and {{ b }"'],
    ["{{ 'x }}", `unclosed {{ at 0 in "{{ 'x }}"`],
    ['x {{}}', 'in the placeholder at 2: expected a value at 0 in ""'],
    ['x {{ a | nope }}', `in the placeholder at 2: unknown filter 'nope' (expected one of json, length, first, last) at 4 in "a | nope"`],
    ["p {{ a in ['x', 'y' }}", `in the placeholder at 2: expected ] at 14 in "a in ['x', 'y'"`],
    ['{{ a b }}', `in the placeholder at 0: expected end of expression (found 'b') at 2 in "a b"`],
    ['{{ .Values.x }}', `in the placeholder at 0: expected a value (found '.') at 0 in ".Values.x"`],
    ['{{{x}}}', `in the placeholder at 0: unexpected character '{' at 0 in "{x"`],
  ])('rejects %j', (source, error) => {
    expect(parseTemplate(source)).toEqual({ ok: false, error });
  });
});

describe('templateRefs', () => {
  it.each<[string, string[][]]>([
    ['no placeholders', []],
    ['{{trigger.host}}', [['trigger', 'host']]],
    ['{{scan.result.ioc}} {{ scan.result.ioc | json }}', [['scan', 'result', 'ioc']]],
    ['{{a.b}} {{c}} {{a.b}}', [['a', 'b'], ['c']]],
    ['{{ scan.byNode["web-1"].result.x }}', [['scan', 'byNode', 'web-1', 'result', 'x']]],
    ["{{ sweep.status == 'ok' && scan.byNode[trigger.host] }}", [['sweep', 'status'], ['scan', 'byNode'], ['trigger', 'host']]],
  ])('%s', (source, expected) => {
    expect(templateRefs(template(source))).toEqual(expected);
  });
});

describe('isSingleExpression and unwrapBraces', () => {
  it.each<[string, boolean, string]>([
    ["{{scan.result.verdict == 'c2_callback'}}", true, "scan.result.verdict == 'c2_callback'"],
    ['{{ a }}', true, 'a'],
    ['  {{ a }}\n', true, 'a'],
    ["{{ x == '}}' }}", true, "x == '}}'"],
    ['{{a}} {{b}}', false, '{{a}} {{b}}'],
    ['{{a}}b', false, '{{a}}b'],
    ['a{{b}}', false, 'a{{b}}'],
    ['{{a', false, '{{a'],
    ['a == 1', false, 'a == 1'],
    ['', false, ''],
    ['{{}}', true, ''],
  ])('%j', (source, single, unwrapped) => {
    expect(isSingleExpression(source)).toBe(single);
    expect(unwrapBraces(source)).toBe(unwrapped);
  });
});
