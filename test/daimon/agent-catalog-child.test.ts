import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadAgentCatalogInChild } from '../../daimon/agent-catalog-child.js';
import { loadAgentCatalog } from '../../src/specs/agent-catalog.js';

// The real binary: the daemon command starts its own entry script as the child.
const OKESU = resolve(import.meta.dirname, '../../dist/okesu.js');
const BUILTINS = resolve(import.meta.dirname, '../../agents');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'okesu-catalog-child-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('loadAgentCatalogInChild', () => {
  it('returns what an in-process load returns: the agents in precedence order and every error', async () => {
    writeFileSync(join(dir, 'edr.md'), '---\nname: edr\ncommand: [echo, mine]\n---\nThe host’s own edr.\n');
    writeFileSync(join(dir, 'broken.md'), '---\nname: broken\neffort: max\n---\n');
    const inChild = await loadAgentCatalogInChild(OKESU, [dir, BUILTINS]);
    const inProcess = await loadAgentCatalog([dir, BUILTINS]);
    expect([...inChild.agents.keys()]).toEqual([...inProcess.agents.keys()]);
    expect(inChild.agents.get('edr')).toEqual(inProcess.agents.get('edr'));
    expect(inChild.agents.get('sre-health')).toEqual(inProcess.agents.get('sre-health'));
    expect(inChild.errors).toEqual(inProcess.errors);
    expect(inChild.errors.map((e) => e.field)).toContain('effort');
  });

  it('fails with the child’s error when the entry script cannot run', async () => {
    await expect(loadAgentCatalogInChild(join(dir, 'missing.js'), [BUILTINS])).rejects.toThrow(/loading the agents failed: .*Cannot find module/s);
  });
});
