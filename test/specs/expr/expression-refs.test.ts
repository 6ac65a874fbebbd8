import { describe, expect, it } from 'vitest';
import { expressionRefs } from '../../../src/specs/expr/evaluate.js';
import { parseExpression } from '../../../src/specs/expr/parse-expression.js';

function refs(source: string): string[][] {
  const parsed = parseExpression(source);
  if (!parsed.ok) throw new Error(`unexpected parse error: ${parsed.error}`);
  return expressionRefs(parsed.expr);
}

describe('expressionRefs', () => {
  it.each<[string, string[][]]>([
    ['1 == 1', []],
    ["['a', 'b']", []],
    ['trigger.host', [['trigger', 'host']]],
    ['scan', [['scan']]],
    ['ioc-sweep.result.count', [['ioc-sweep', 'result', 'count']]],
    ['scan.byNode["web-1"].result.x', [['scan', 'byNode', 'web-1', 'result', 'x']]],
    ["scan.byNode['web-1']", [['scan', 'byNode', 'web-1']]],
    ['sweep.nodes[0]', [['sweep', 'nodes', '0']]],
    ['sweep.nodes[0].name', [['sweep', 'nodes', '0', 'name']]],
    ['scan.byNode[trigger.host].result.pid', [['scan', 'byNode'], ['trigger', 'host']]],
    ['a[b][c]', [['a'], ['b'], ['c']]],
    ['a[true].x', [['a']]],
    ["scan.result.verdict == 'c2_callback'", [['scan', 'result', 'verdict']]],
    ["finding.severity in ['HIGH','CRITICAL'] && finding.agent == 'edr'", [['finding', 'severity'], ['finding', 'agent']]],
    ['a.b || a.b', [['a', 'b']]],
    ['a && a.b', [['a'], ['a', 'b']]],
    ['!x.y', [['x', 'y']]],
    ['scan.findings | length', [['scan', 'findings']]],
    ['(scan.findings | first).severity', [['scan', 'findings']]],
    ['[a.b, c][0]', [['a', 'b'], ['c']]],
    ['x in [y, z.w]', [['x'], ['y'], ['z', 'w']]],
    ['a contains b.c', [['a'], ['b', 'c']]],
    ['a.true.null', [['a', 'true', 'null']]],
  ])('%s', (source, expected) => {
    expect(refs(source)).toEqual(expected);
  });

  it('gives the step id as the first element, which the validator checks against earlier steps', () => {
    const firsts = refs("contain.status == 'x' && scan.byNode[trigger.host].result.pid > 0").map((r) => r[0]);
    expect(firsts).toEqual(['contain', 'scan', 'trigger']);
  });
});
