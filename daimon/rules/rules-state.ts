import { z } from 'zod';
import { readFileIfExists, writeFileAtomic } from '../../src/files/atomic-write.js';
import { emptyRulesState } from './evaluate-rules.js';
import type { RulesState } from './evaluate-rules.js';

export type { RulesState } from './evaluate-rules.js';

const hex = z.string().regex(/^[0-9a-f]{1,64}$/);

const rulesStateSchema = z.object({
  version: z.literal(1),
  rules: z.record(
    z.string(),
    z.object({
      signature: z.string(),
      lines: z.array(hex).optional(),
      keys: z.record(hex, hex).optional(),
    }),
  ),
});

/** The rules state in `file`; a missing or corrupt file is an empty state (use `readRulesState` to learn why). */
export function loadRulesState(file: string): RulesState {
  return readRulesState(file).state;
}

/** The rules state in `file`; a missing file is an empty state, a corrupt one too, with `problem` saying why (for the log). */
export function readRulesState(file: string): { state: RulesState; problem?: string } {
  let text: string | undefined;
  try {
    text = readFileIfExists(file);
  } catch (err) {
    return { state: emptyRulesState(), problem: `cannot read rules state ${file}: ${(err as Error).message}; starting empty` };
  }
  if (text === undefined) return { state: emptyRulesState() };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { state: emptyRulesState(), problem: `rules state ${file} is not JSON (${(err as Error).message}); starting empty` };
  }
  const parsed = rulesStateSchema.safeParse(data);
  if (!parsed.success) return { state: emptyRulesState(), problem: `rules state ${file} is not a version 1 rules state; starting empty` };
  // A null-prototype map: a rule named like an Object.prototype member cannot reach it.
  const rules: RulesState['rules'] = Object.create(null) as RulesState['rules'];
  for (const [name, rule] of Object.entries(parsed.data.rules)) {
    rules[name] = {
      signature: rule.signature,
      ...(rule.lines && { lines: rule.lines }),
      ...(rule.keys && { keys: rule.keys }),
    };
  }
  return { state: { version: 1, rules } };
}

/** Writes the rules state atomically (temporary file, fsync, rename), mode 0600. */
export function saveRulesState(file: string, state: RulesState): void {
  writeFileAtomic(file, `${JSON.stringify(state)}\n`, 0o600);
}
