import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventBody } from '../../../src/protocol/event.js';
import type { AgentSpec, RbacRule } from '../../../src/specs/agent-spec.js';
import { formatSpecError, parseAgent } from '../../../src/specs/parse-agent.js';
import { EMPTY_POLICY } from '../../../src/specs/policy-spec.js';
import type { HostPolicy, PolicyPattern } from '../../../src/specs/policy-spec.js';
import { createToolbox } from '../../../daimon/tools/toolbox.js';
import type { ToolboxOptions } from '../../../daimon/tools/toolbox.js';
import type { ToolReply } from '../../../daimon/tools/tool.js';

/** An agent with these tools and rbac rules, parsed like a real agent file. */
export function toolAgent(tools: string[], rbac: { allow?: RbacRule[]; deny?: RbacRule[] } = {}): AgentSpec {
  const fm = { name: 'probe', model: 'claude-sonnet-4-5', tools, rbac: { allow: rbac.allow ?? [], deny: rbac.deny ?? [] } };
  const r = parseAgent(`---\n${JSON.stringify(fm)}\n---\nbody\n`, '<test>');
  if (!r.ok) throw new Error(r.errors.map(formatSpecError).join('\n'));
  return r.agent;
}

/** A host policy denying these patterns. */
export function denyPolicy(deny: Partial<Record<keyof HostPolicy['deny'], (string | PolicyPattern)[]>> = {}): HostPolicy {
  const list = (items: (string | PolicyPattern)[] = []): PolicyPattern[] => items.map((p) => (typeof p === 'string' ? { pattern: p } : p));
  return { ...EMPTY_POLICY, source: '<test>', deny: { agents: list(deny.agents), tools: list(deny.tools), commands: list(deny.commands), paths: list(deny.paths) } };
}

/** A real temporary directory (symlinks resolved, so paths in results compare equal) and its removal. */
export function tempDir(): { dir: string; cleanup(): void } {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'okesu-tools-')));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

let nextId = 0;

/** One call through a fresh toolbox: the reply and every event it emitted. */
export async function callTool(
  agent: AgentSpec,
  policy: HostPolicy,
  name: string,
  input: unknown,
  opts: ToolboxOptions & { signal?: AbortSignal } = {},
): Promise<{ reply: ToolReply; events: EventBody[]; result: EventBody | undefined }> {
  const events: EventBody[] = [];
  const toolbox = createToolbox(agent, policy, { killGraceMs: 300, ...opts });
  const reply = await toolbox.call({ id: `t${++nextId}`, name, input }, opts.signal ?? new AbortController().signal, async (body) => {
    events.push(body);
  });
  return { reply, events, result: events.find((e) => e.type === 'tool_result') };
}
