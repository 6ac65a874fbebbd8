import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { EventBody } from '../../src/protocol/event.js';
import type { AgentSpec } from '../../src/specs/agent-spec.js';
import { formatSpecError, parseAgent } from '../../src/specs/parse-agent.js';
import type { Logger } from '../../daimon/provider.js';

/** Absolute path of a fixture script. */
export const fixture = (name: string): string => join(import.meta.dirname, 'fixtures', name);

/** A custom agent running `command` (an argv list or a shell string). */
export function customAgent(command: string | string[]): AgentSpec {
  const r = parseAgent(`---\nname: probe\nversion: "1.2.3"\ncommand: ${JSON.stringify(command)}\n---\nprompt\n`, '<test>');
  if (!r.ok) throw new Error(r.errors.map(formatSpecError).join('\n'));
  return r.agent;
}

/** A logger that keeps what it was told, for assertions. */
export function memoryLogger(): Logger & { lines: { level: string; obj: object; msg?: string }[] } {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj, msg });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

/** An emit that records every body. */
export function recorder(): { events: EventBody[]; emit: (body: EventBody) => Promise<void> } {
  const events: EventBody[] = [];
  return { events, emit: async (body) => void events.push(body) };
}

/** Polls `check` until it holds, failing after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs = 10_000, label = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) expect.fail(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * True when `pid` no longer runs: `kill(pid, 0)` fails with ESRCH. A zombie (dead, not yet reaped —
 * in a container whose init does not reap orphans) also counts as gone.
 */
export function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}
