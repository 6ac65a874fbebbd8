import { describe, expect, it } from 'vitest';
import { inputsToEnv } from '../../../daimon/collectors/input-env.js';

describe('inputsToEnv', () => {
  it.each([
    ['a string', { target: 'a b' }, { OKESU_INPUT_TARGET: 'a b' }],
    ['a number', { disk_full_pct: 90.5 }, { OKESU_INPUT_DISK_FULL_PCT: '90.5' }],
    ['booleans', { on: true, off: false }, { OKESU_INPUT_ON: 'true', OKESU_INPUT_OFF: 'false' }],
    ['a list, one item a line', { paths: ['/etc', '/usr/bin'] }, { OKESU_INPUT_PATHS: '/etc\n/usr/bin' }],
    ['an object as JSON', { cfg: { a: [1] } }, { OKESU_INPUT_CFG: '{"a":[1]}' }],
    ['a name with odd characters', { 'my-input.x': 'v' }, { OKESU_INPUT_MY_INPUT_X: 'v' }],
    ['NUL bytes dropped', { s: 'a\0b' }, { OKESU_INPUT_S: 'ab' }],
    ['undefined left out', { u: undefined }, {}],
  ])('%s', (_name, inputs, env) => {
    expect(inputsToEnv(inputs as Record<string, unknown>)).toEqual(env);
  });
});
