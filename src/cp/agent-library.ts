import type { AgentInputView, AgentLibraryEntry } from '../protocol/findings-api.js';
import type { InputValue } from '../specs/agent-spec.js';
import { parseAgent } from '../specs/parse-agent.js';

/** The JSON type of an input's default, as the console shows it. */
export function inputType(value: InputValue): AgentInputView['type'] {
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'boolean';
  return 'string';
}

/** The library entry of one agent definition's text, or undefined when it does not parse. */
export function libraryEntry(text: string): AgentLibraryEntry | undefined {
  const parsed = parseAgent(text, '<library>');
  if (!parsed.ok) return undefined;
  const a = parsed.agent;
  return {
    name: a.name, description: a.description, provider: a.provider, mode: a.mode, timeout_ms: a.timeoutMs,
    inputs: Object.entries(a.inputs).map(([name, input]) => ({ name, type: inputType(input.default), default: input.default, description: input.description })),
  };
}

/**
 * The agent definitions the CP sends with dispatches, as `GET /v1/agents` lists them. `list` is read on each call
 * (the CLI reloads definitions on SIGHUP); each text is parsed once, and entries of texts no longer listed are dropped.
 */
export function createAgentLibrary(list: () => ReadonlyMap<string, string>): AgentLibrary {
  let cache = new Map<string, AgentLibraryEntry | undefined>();
  return {
    /** Every definition that parses, by name. */
    entries(): AgentLibraryEntry[] {
      const next = new Map<string, AgentLibraryEntry | undefined>();
      const out: AgentLibraryEntry[] = [];
      for (const [name, text] of list()) {
        const entry = cache.has(text) ? cache.get(text) : libraryEntry(text);
        next.set(text, entry);
        // The library is keyed by the name it was loaded under (the catalog's), which is the name dispatches use.
        if (entry) out.push({ ...entry, name });
      }
      cache = next;
      return out.sort((a, b) => a.name.localeCompare(b.name));
    },
  };
}
/** The CP's agent library: the definitions it sends with dispatches (`GET /v1/agents`). */
export interface AgentLibrary {
  /** Every definition that parses, sorted by the name it was loaded under; read afresh on each call. */
  entries(): AgentLibraryEntry[];
}
