import { describe, expect, it } from 'vitest';
import { lookupPath, renderTemplate, templatePaths } from '../../src/specs/template.js';

const scope = {
  host: 'web-1',
  agent: { name: 'edr', version: '1.0.0' },
  inputs: { disk_full_pct: 90, paths: ['/etc', '/usr/bin'], verbose: false, mixed: [1, 'a'], nested: { a: 1 } },
  hostile: '{{host}} and {{inputs.disk_full_pct}}',
  nothing: null,
  list: ['a', 'b'],
};

describe('renderTemplate', () => {
  it.each([
    ['plain text', 'no placeholders', 'no placeholders'],
    ['a top-level string', 'host {{host}}', 'host web-1'],
    ['whitespace inside braces', '{{ agent.name }}/{{agent.version}}/{{\tagent.name\n}}', 'edr/1.0.0/edr'],
    ['a number', '{{ inputs.disk_full_pct }}%', '90%'],
    ['a boolean', '{{inputs.verbose}}', 'false'],
    ['a list of strings', '{{inputs.paths}}', '/etc, /usr/bin'],
    ['a mixed list as JSON', '{{inputs.mixed}}', '[1,"a"]'],
    ['an object as JSON', '{{inputs.nested}}', '{"a":1}'],
    ['an array index', '{{list.1}}', 'b'],
    ['an unclosed placeholder stays text', 'a {{ host', 'a {{ host'],
    ['a single brace is text', '{ host }', '{ host }'],
    ['four braces are not an escape', '{{{{host}}}}', '{{web-1}}'],
    ['non-path content stays text', '{{ .Values.x }} {{ a b }}', '{{ .Values.x }} {{ a b }}'],
    ['values are not expanded again', '{{hostile}}', '{{host}} and {{inputs.disk_full_pct}}'],
    ['prototype members are missing', '[{{constructor}}][{{host.length}}][{{__proto__}}]', '[][][]'],
    ['null renders empty', '[{{nothing}}]', '[]'],
    ['several on a line', '{{host}}:{{host}}', 'web-1:web-1'],
  ])('%s', (_name, template, expected) => {
    expect(renderTemplate(template, scope)).toBe(expected);
  });

  it('renders a missing path as empty and reports each occurrence', () => {
    const missing: string[] = [];
    const out = renderTemplate('a{{ nope }}b{{inputs.nope}}c{{nope}}', scope, { onMissing: (p) => missing.push(p) });
    expect(out).toBe('abc');
    expect(missing).toEqual(['nope', 'inputs.nope', 'nope']);
  });
});

describe('templatePaths', () => {
  it('lists distinct placeholder paths in order of first use', () => {
    expect(templatePaths('{{ b.c }} {{a}} {{b.c}} {{ not a path }} {{ x')).toEqual(['b.c', 'a']);
  });
});

describe('lookupPath', () => {
  it('follows own properties only', () => {
    expect(lookupPath(scope, 'agent.name')).toBe('edr');
    expect(lookupPath(scope, 'agent.toString')).toBeUndefined();
    expect(lookupPath(scope, 'list.x')).toBeUndefined();
  });
});
