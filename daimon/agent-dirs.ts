import type { Logger } from 'pino';
import { builtinAgentsDir } from '../src/specs/builtin-agents-dir.js';

/** The directories agents load from, in order of precedence: the host's, then the built-ins (`false`: none). */
export function agentDirs(options: { agentDirs?: string[]; builtinAgents?: string | false }, log: Pick<Logger, 'warn'>): string[] {
  const dirs = [...(options.agentDirs ?? [])];
  if (options.builtinAgents === false) return dirs;
  if (typeof options.builtinAgents === 'string') return [...dirs, options.builtinAgents];
  try {
    return [...dirs, builtinAgentsDir()];
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'built-in agents not found');
    return dirs;
  }
}
