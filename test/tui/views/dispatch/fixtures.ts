import type { AgentLibraryEntry } from '../../../../src/protocol/findings-api.js';
import type { OrchestrationView } from '../../../../src/protocol/orchestration-api.js';

/** An agent with one input of every type. */
export const SWEEP: AgentLibraryEntry = {
  name: 'ioc-sweep',
  description: 'Looks for indicators of compromise',
  provider: 'custom',
  mode: 'oneshot',
  timeout_ms: 300_000,
  inputs: [
    { name: 'ioc', type: 'string', default: '', description: 'IP, domain or hash' },
    { name: 'depth', type: 'number', default: 2, description: 'directory depth' },
    { name: 'deep', type: 'boolean', default: false, description: '' },
    { name: 'paths', type: 'list', default: ['/etc', '/tmp'], description: 'where to look' },
  ],
};

/** An agent without inputs. */
export const CHECK: AgentLibraryEntry = { name: 'host-check', description: 'Basic host health', provider: 'custom', mode: 'oneshot', timeout_ms: 60_000, inputs: [] };

/** A stored orchestration. */
export const TRIAGE: OrchestrationView = {
  name: 'c2-callback-triage',
  description: 'Triage a C2 callback finding',
  steps: [{ id: 'triage', agent: 'ioc-sweep' }, { id: 'contain', agent: 'contain' }],
  triggers: [],
  updated_at: 0,
  updated_by: 'alice',
};
