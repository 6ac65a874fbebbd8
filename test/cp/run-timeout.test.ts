import { describe, expect, it } from 'vitest';
import { runTimeoutMs } from '../../src/cp/dispatcher.js';

const agent = (timeout?: string): string =>
  `---\nname: t\nprovider: custom\ncommand: ["true"]\n${timeout ? `timeout: ${timeout}\n` : ''}---\nbody\n`;

describe('run timeout: the operator’s, else the agent definition’s, else 5 minutes', () => {
  it.each([
    ['explicit wins over the definition', 60_000, agent('10m'), 60_000],
    ['the definition’s own timeout', undefined, agent('90s'), 90_000],
    ['a definition without timeout gets the spec default', undefined, agent(), 300_000],
    ['no definition', undefined, undefined, 300_000],
    ['an invalid definition falls back to 5 minutes', undefined, '---\nname: [\n---\n', 300_000],
  ])('%s', (_name, requested, definition, expected) => {
    expect(runTimeoutMs(requested, definition)).toBe(expected);
  });
});
