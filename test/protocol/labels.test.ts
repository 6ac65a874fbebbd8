import { describe, expect, it } from 'vitest';
import { hostLabelsSchema } from '../../src/protocol/orchestration-api.js';
import { isLabelKey, labelsSchema } from '../../src/protocol/labels.js';
import { daimonFrameSchema } from '../../src/protocol/tunnel.js';

describe('label keys', () => {
  it.each(['env', 'a.b/c-d_e', 'x'.repeat(63)])('accepts %j', (key) => expect(isLabelKey(key)).toBe(true));
  it.each(['', 'x'.repeat(64), 'a b', 'a=b', 'é', '__proto__', 'constructor', 'prototype'])('refuses %j', (key) => expect(isLabelKey(key)).toBe(false));

  // Found by `npm run fuzz`: `__proto__` passed the key pattern, and the parsed record silently lost it.
  it('refuses __proto__ in a hello and in an operator label change instead of dropping it', () => {
    const hello = JSON.parse('{"type":"hello","protocol":1,"version":"1","labels":{"__proto__":"x","ok":"1"}}') as unknown;
    const parsed = daimonFrameSchema.safeParse(hello);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toMatch(/label key/);
    expect(hostLabelsSchema.safeParse(JSON.parse('{"set":{"__proto__":"x"}}')).success).toBe(false);
    expect(labelsSchema.parse({ ok: '1' })).toEqual({ ok: '1' });
  });
});
