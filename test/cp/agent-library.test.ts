import { afterEach, describe, expect, it } from 'vitest';
import { createAgentLibrary, inputType, libraryEntry } from '../../src/cp/agent-library.js';
import { loadDefinitions } from '../../src/cli/commands/cp-serve.js';
import { agentLibraryEntrySchema } from '../../src/protocol/findings-api.js';
import { startCp, type CpHarness } from './cp-harness.js';

const agent = (name: string, extra = ''): string =>
  `---\nname: ${name}\ndescription: ${name} agent\nprovider: custom\ncommand: ["true"]\ntimeout: 2m\n${extra}---\nBody.\n`;

describe('agent library entries', () => {
  it('maps a definition: provider, mode, timeout and inputs typed from their defaults', () => {
    const inputs = 'inputs:\n  paths: []\n  limit: { default: 5, description: max items }\n  deep: false\n  mode: fast\n';
    expect(libraryEntry(agent('scan', inputs))).toEqual({
      name: 'scan', description: 'scan agent', provider: 'custom', mode: 'oneshot', timeout_ms: 120_000,
      inputs: [
        { name: 'paths', type: 'list', default: [], description: '' },
        { name: 'limit', type: 'number', default: 5, description: 'max items' },
        { name: 'deep', type: 'boolean', default: false, description: '' },
        { name: 'mode', type: 'string', default: 'fast', description: '' },
      ],
    });
    expect(inputType(['a'])).toBe('list');
    expect(libraryEntry('---\nname: broken\nprovider: nope\n---\n')).toBeUndefined();
  });

  it('lists by name, skips definitions that do not parse and follows a changed list', () => {
    let texts = new Map([['zeta', agent('zeta')], ['alpha', agent('alpha')], ['bad', 'no frontmatter']]);
    const library = createAgentLibrary(() => texts);
    expect(library.entries().map((e) => e.name)).toEqual(['alpha', 'zeta']);
    texts = new Map([['alpha', agent('alpha', 'timeout: 7s\n').replace('timeout: 2m\n', '')]]);
    expect(library.entries().map((e) => [e.name, e.timeout_ms])).toEqual([['alpha', 7000]]);
  });
});

describe('GET /v1/agents', () => {
  let h: CpHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('lists the built-in definitions the CP dispatches, to a viewer', async () => {
    const definitions = await loadDefinitions([], () => undefined);
    h = await startCp({ options: { agentLibrary: () => definitions } });
    const viewer = h.client((await h.mintOperator('viewer')).token);
    const agents = await viewer.listAgents();
    expect(agents.map((a) => a.name)).toEqual([...definitions.keys()].sort());
    for (const a of agents) expect(agentLibraryEntrySchema.safeParse(a).success).toBe(true);
    expect(agents.find((a) => a.name === 'host-check')).toMatchObject({ provider: 'custom', timeout_ms: 60_000, inputs: [] });
    const sre = agents.find((a) => a.name === 'sre-health');
    expect(sre?.inputs.find((i) => i.name === 'disk_paths')).toMatchObject({ type: 'list', default: [] });
    expect(sre?.inputs.find((i) => i.name === 'disk_full_pct')).toMatchObject({ type: 'number', default: 90 });
    expect((await h.request('GET', '/v1/agents', { token: null })).status).toBe(401);
  });

  it('is empty without a library, and a library alone also resolves dispatched definitions', async () => {
    h = await startCp();
    expect(await h.admin.listAgents()).toEqual([]);
    await h.close();

    h = await startCp({ options: { agentLibrary: () => new Map([['probe', agent('probe')]]) } });
    await h.connectHost(await h.registerHost('web-01'));
    // The run's timeout comes from the library's definition (2m), not the 5-minute default.
    expect((await h.admin.createRun({ agent: 'probe', host: 'web-01' })).timeout_ms).toBe(120_000);
  });
});
