import { describe, expect, it } from 'vitest';
import { validateFindingFields } from '../../../src/cp/findings/stored-finding.js';
import { findingFieldsSchema } from '../../../src/protocol/finding.js';
import { seededPick } from '../../support/seeded-pick.js';

// validateFindingFields answers findings already in normal form without zod: its answer must be the schema's.
const CHOICES: Record<string, unknown[]> = {
  severity: ['HIGH', 'INFO', 'high', ' LOW', 'SEVERE', '', 3, null, undefined],
  title: ['Suspicious process 4', ' padded ', '', 'x'.repeat(120), 'x'.repeat(121), '\u00a0nbsp', 7, undefined],
  category: [undefined, 'process', 'Network', 'weird', '', null],
  resource: [undefined, '', 'binary:/usr/bin/x', 'r'.repeat(2048), 'r'.repeat(2049), 5],
  evidence: [undefined, [], ['pid 1', 'cmdline x'], 'a\nb', '', ['e'.repeat(16 * 1024 + 1)], Array(501).fill('x'), [1], null],
  dedup_key: [undefined, '', 'k', 'k'.repeat(513), false],
  recommended_action: [undefined, 'kill it', 'a'.repeat(4097), 1],
  tags: [undefined, [], ['bench'], Array(65).fill('t'), ['t'.repeat(129)], 'bench'],
  attributes: [undefined, {}, { k: 1 }, [], null],
};

describe('validateFindingFields', () => {
  it('gives the answer of findingFieldsSchema', () => {
    const pick = seededPick(7);
    let normal = 0;
    for (let i = 0; i < 10_000; i++) {
      const event: Record<string, unknown> = { ts: 1, agent: 'a', type: 'finding', extra: 'kept out' };
      for (const [k, xs] of Object.entries(CHOICES)) {
        // Mostly the first (valid) choice of each field, so that many findings are acceptable.
        const v = pick([true, true, true, false]) ? xs[0] : pick(xs);
        if (v !== undefined || pick([true, false])) event[k] = v;
      }
      const parsed = findingFieldsSchema.safeParse(event);
      const got = validateFindingFields(event);
      expect(got.ok, JSON.stringify(event)).toBe(parsed.success);
      if (got.ok && parsed.success) {
        expect(got.fields, JSON.stringify(event)).toStrictEqual(parsed.data);
        normal++;
      }
    }
    expect(normal).toBeGreaterThan(200);
  });
});
