import { describe, expect, it } from 'vitest';
import { coerceInput, parseFreeInputs, parseTargets, planDispatch } from '../../../../tui/views/dispatch/dispatch-request.js';
import { choices, defaultText, fieldKey, formFields, matchChoices } from '../../../../tui/views/dispatch/dispatch-rows.js';
import { CHECK, SWEEP, TRIAGE } from './fixtures.js';

const [triage, check, sweep] = choices([TRIAGE], [SWEEP, CHECK]);

describe('choices and fields', () => {
  it('offers orchestrations then agents by name, searchable by name and description', () => {
    expect(choices([TRIAGE], [SWEEP, CHECK]).map((c) => `${c.kind} ${c.name}`)).toEqual(['orchestration c2-callback-triage', 'agent host-check', 'agent ioc-sweep']);
    expect(matchChoices([triage!, check!, sweep!], 'HEALTH').map((c) => c.name)).toEqual(['host-check']);
    expect(matchChoices([triage!, check!, sweep!], '  ').length).toBe(3);
  });

  it('gives an agent targets, prompt and its inputs; an orchestration free inputs', () => {
    expect(formFields(undefined).map(fieldKey)).toEqual(['what']);
    expect(formFields(sweep).map(fieldKey)).toEqual(['what', 'targets', 'prompt', 'input:ioc', 'input:depth', 'input:deep', 'input:paths', 'run']);
    expect(formFields(triage).map(fieldKey)).toEqual(['what', 'inputs', 'run']);
    expect(SWEEP.inputs.map(defaultText)).toEqual(['', '2', 'false', '/etc,/tmp']);
  });
});

describe('parsing the fields', () => {
  it('reads targets as hosts (commas or spaces, once each) or a selector', () => {
    expect(parseTargets(' web-01, web-02 web-01 ')).toEqual({ ok: true, targets: { kind: 'hosts', hosts: ['web-01', 'web-02'] } });
    expect(parseTargets('all')).toEqual({ ok: true, targets: { kind: 'selector', selector: 'all' } });
    expect(parseTargets('label:zone=a,role=web')).toEqual({ ok: true, targets: { kind: 'selector', selector: 'label:zone=a,role=web' } });
    expect(parseTargets('label:zone')).toMatchObject({ ok: false, error: expect.stringContaining('is not k=v') });
    expect(parseTargets('  ')).toMatchObject({ ok: false, error: expect.stringContaining('no targets') });
  });

  it('coerces declared inputs to their type and says what is wrong', () => {
    const [ioc, depth, deep, paths] = SWEEP.inputs;
    expect(coerceInput(ioc!, '1.2.3.4')).toEqual({ ok: true, value: '1.2.3.4' });
    expect(coerceInput(depth!, '3')).toEqual({ ok: true, value: 3 });
    expect(coerceInput(depth!, 'three')).toEqual({ ok: false, error: 'depth: expected a number, got "three"' });
    expect(coerceInput(deep!, 'yes')).toEqual({ ok: true, value: true });
    expect(coerceInput(deep!, 'maybe')).toMatchObject({ ok: false });
    expect(coerceInput(paths!, '/a, /b,,')).toEqual({ ok: true, value: ['/a', '/b'] });
  });

  it('reads free inputs as k=v with JSON values when they parse', () => {
    expect(parseFreeInputs('pid=4242 host=web-03 deep=true tags=["a"]')).toEqual({ ok: true, inputs: { pid: 4242, host: 'web-03', deep: true, tags: ['a'] } });
    expect(parseFreeInputs('')).toEqual({ ok: true, inputs: {} });
    expect(parseFreeInputs('oops')).toEqual({ ok: false, error: 'inputs: "oops" is not k=v' });
  });
});

describe('planDispatch', () => {
  const values = { targets: 'web-01', prompt: 'look', 'input:ioc': '203.0.113.7', 'input:depth': '3', 'input:deep': '', 'input:paths': '/etc' };

  it('builds a one-host run without confirm, leaving empty typed inputs to their default', () => {
    expect(planDispatch(sweep, values)).toEqual({
      ok: true,
      kind: 'agent',
      request: { agent: 'ioc-sweep', prompt: 'look', inputs: { ioc: '203.0.113.7', depth: 3, paths: ['/etc'] }, host: 'web-01' },
      what: 'agent ioc-sweep',
      targets: 'web-01',
      confirm: false,
    });
  });

  it('asks to confirm a run on several hosts or a selector', () => {
    expect(planDispatch(sweep, { ...values, targets: 'web-01,web-02' })).toMatchObject({ request: { hosts: ['web-01', 'web-02'] }, targets: '2 hosts', confirm: true });
    expect(planDispatch(sweep, { ...values, targets: 'all' })).toMatchObject({ request: { selector: 'all' }, targets: 'all hosts', confirm: true });
    expect(planDispatch(sweep, { ...values, targets: 'label:zone=a' })).toMatchObject({ request: { selector: 'label:zone=a' }, targets: 'label:zone=a', confirm: true });
  });

  it('starts an orchestration by name with its inputs, always confirmed', () => {
    expect(planDispatch(triage, { inputs: 'pid=4242' })).toMatchObject({ ok: true, kind: 'orchestration', request: { name: 'c2-callback-triage', inputs: { pid: 4242 } }, confirm: true });
  });

  it('says why it cannot run', () => {
    expect(planDispatch(undefined, {})).toEqual({ ok: false, error: 'choose an orchestration or an agent first' });
    expect(planDispatch(check, { targets: '' })).toMatchObject({ ok: false, error: expect.stringContaining('no targets') });
    expect(planDispatch(sweep, { ...values, 'input:depth': 'deep' })).toMatchObject({ ok: false, error: 'depth: expected a number, got "deep"' });
    expect(planDispatch(triage, { inputs: 'x' })).toMatchObject({ ok: false });
  });
});
