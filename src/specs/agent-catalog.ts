import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentSpec } from './agent-spec.js';
import { parseAgent } from './parse-agent.js';
import type { SpecError } from './parse-agent.js';

/** Agents by name, plus every error met while loading them. */
export interface AgentCatalog {
  agents: Map<string, AgentSpec>;
  errors: SpecError[];
}

/**
 * Loads every `*.md` agent in `dirs`, in order. The first directory that defines a name wins, so a
 * host's own directory listed before the built-ins overrides them; later definitions are ignored.
 * Two files in one directory defining the same name are an error (the first, by file name, is kept).
 * A directory that does not exist is skipped.
 */
export async function loadAgentCatalog(dirs: string[]): Promise<AgentCatalog> {
  const agents = new Map<string, AgentSpec>();
  const errors: SpecError[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = (await readdir(dir, { withFileTypes: true }))
        .filter((e) => e.name.endsWith('.md') && (e.isFile() || e.isSymbolicLink()))
        .map((e) => e.name)
        .sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      errors.push({ source: dir, line: 1, column: 1, field: '', message: `cannot read agent directory: ${(err as Error).message}` });
      continue;
    }
    const files = await Promise.all(names.map(async (name) => loadFile(join(dir, name))));
    const inThisDir = new Map<string, string>();
    for (const file of files) {
      if (!file.ok) {
        errors.push(...file.errors);
        continue;
      }
      const { agent } = file;
      const earlier = inThisDir.get(agent.name);
      if (earlier !== undefined) {
        errors.push({ source: agent.source, line: 1, column: 1, field: 'name', message: `agent "${agent.name}" is already defined in ${earlier}; this file is ignored` });
        continue;
      }
      inThisDir.set(agent.name, agent.source);
      if (!agents.has(agent.name)) agents.set(agent.name, agent);
    }
  }
  return { agents, errors };
}

async function loadFile(path: string): Promise<{ ok: true; agent: AgentSpec } | { ok: false; errors: SpecError[] }> {
  try {
    return parseAgent(await readFile(path, 'utf8'), path);
  } catch (err) {
    return { ok: false, errors: [{ source: path, line: 1, column: 1, field: '', message: `cannot read agent file: ${(err as Error).message}` }] };
  }
}

export { builtinAgentsDir } from './builtin-agents-dir.js';
