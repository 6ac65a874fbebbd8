import { execFile } from 'node:child_process';
import { z } from 'zod';
import type { AgentSpec } from '../src/specs/agent-spec.js';
import type { AgentCatalog } from '../src/specs/agent-catalog.js';
import { runningExecutable } from '../src/lifecycle/running-executable.js';
import { loadAgentCatalog } from '../src/specs/agent-catalog.js';
import type { SpecError } from '../src/specs/parse-agent.js';
import { buildChildEnv } from './run/child-env.js';

/** The first argument that makes the okesu entry point load agent directories and print the catalog as JSON. */
export const CATALOG_CHILD_ARG = '__okesu-agent-catalog';

/** The child side: loads `dirs` and writes `{agents, errors}` as one JSON document on stdout. */
export async function printAgentCatalog(dirs: string[], out: NodeJS.WritableStream): Promise<void> {
  const catalog = await loadAgentCatalog(dirs);
  out.write(JSON.stringify({ agents: [...catalog.agents.values()], errors: catalog.errors }));
}

// The child is our own binary, but its answer is still checked before the daimon relies on it.
const childAnswerSchema = z.object({
  agents: z.array(z.looseObject({ name: z.string(), source: z.string() })),
  errors: z.array(z.object({ source: z.string(), line: z.number(), column: z.number(), field: z.string(), message: z.string() })),
});

/**
 * Loads the agent catalog in a short-lived child process of the okesu entry script `entry`. Parsing the agents' YAML
 * is an allocation burst; done in the daimon's own process it would leave its heap grown for the life of the process
 * (measured: +24 MiB resident with the built-ins; a worker thread still left +17 MiB of malloc arenas behind). A
 * child's memory all goes back when it exits; only the parsed agents come back, as JSON. It is the daimon's own code,
 * yet it gets the allowlisted environment like every process the daimon starts (plus NODE_OPTIONS, which it honours,
 * and OKESU_SEA_DIR, so that a single executable's child reuses the files its parent unpacked).
 */
export function loadAgentCatalogInChild(entry: string, dirs: string[]): Promise<AgentCatalog> {
  return new Promise((resolve, reject) => {
    const self = runningExecutable(entry);
    const env = buildChildEnv(process.env, ['NODE_OPTIONS', 'OKESU_SEA_DIR']);
    execFile(self.command, [...self.args, CATALOG_CHILD_ARG, ...dirs], { maxBuffer: 64 * 1024 * 1024, timeout: 60_000, env }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`loading the agents failed: ${err.message}${stderr ? `: ${stderr.trim().slice(0, 2000)}` : ''}`));
      let parsed: z.infer<typeof childAnswerSchema>;
      try {
        parsed = childAnswerSchema.parse(JSON.parse(stdout));
      } catch (e) {
        return reject(new Error(`loading the agents failed: unreadable answer: ${(e as Error).message}`));
      }
      const agents = parsed.agents as unknown as AgentSpec[];
      resolve({ agents: new Map(agents.map((a) => [a.name, a])), errors: parsed.errors as SpecError[] });
    });
  });
}
