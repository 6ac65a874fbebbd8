import { describe, expect, it } from 'vitest';
import { FRONTMATTER_FIELDS, agentFrontmatterSchema, inferProvider } from '../../src/specs/agent-spec.js';

describe('inferProvider', () => {
  it.each([
    [{ provider: 'codex' as const, model: 'claude-opus-4' }, 'codex'],
    [{ command: ['x'], model: 'gpt-5' }, 'custom'],
    [{ model: 'Claude-3-5-Haiku' }, 'claude'],
    [{ model: 'sonnet-4.5' }, 'claude'],
    [{ model: 'gpt-4o' }, 'codex'],
    [{ model: 'o3-pro' }, 'codex'],
    [{ model: 'o2' }, undefined],
    [{ model: 'opusx' }, undefined],
    [{}, undefined],
  ])('%j → %s', (fields, provider) => {
    expect(inferProvider(fields)).toBe(provider);
  });
});

describe('agentFrontmatterSchema', () => {
  it('lists every SPEC §4 field', () => {
    expect([...FRONTMATTER_FIELDS].sort()).toEqual([
      'collectors', 'command', 'cron', 'dedupeTtl', 'description', 'effort', 'env', 'inputs', 'interval', 'maxTurns', 'mode', 'model',
      'name', 'overlap', 'provider', 'rbac', 'rules', 'timeout', 'tools', 'version',
    ]);
  });

  it.each([
    ['timeout', '0s', false],
    ['timeout', '7d', true],
    ['timeout', '8d', false],
    ['dedupeTtl', '0s', true],
    ['interval', '500ms', false],
  ])('%s: %s valid=%s', (field, value, valid) => {
    const base = { name: 'a', model: 'opus', ...(field === 'interval' && { mode: 'daemon' }) };
    expect(agentFrontmatterSchema.safeParse({ ...base, [field]: value }).success).toBe(valid);
  });
});
