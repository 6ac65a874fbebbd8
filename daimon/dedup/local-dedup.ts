import { z } from 'zod';
import type { EventBody } from '../../src/protocol/event.js';
import { findingFieldsSchema } from '../../src/protocol/finding.js';
import { fingerprintFinding } from '../../src/protocol/fingerprint.js';
import { readFileIfExists, writeFileAtomic } from '../../src/files/atomic-write.js';

/** Most fingerprints remembered; beyond it the oldest are forgotten (and may be emitted again). */
export const MAX_DEDUP_ENTRIES = 50_000;

/** Options of the local dedup. */
export interface LocalDedupOptions {
  /** How long an emitted fingerprint suppresses repeats; 0 disables the dedup. */
  ttlMs: number;
  now: () => number;
  /** Most fingerprints kept (default `MAX_DEDUP_ENTRIES`). */
  maxEntries?: number;
}

/** The host's memory of the findings it emitted: `admit` says whether to emit one, `save` persists the memory. */
export interface LocalDedup {
  /**
   * True when the finding should be emitted (and records it), false when its fingerprint was emitted within the TTL.
   * `thisRun` holds the fingerprints one run already admitted: they are admitted again, so one problem seen three
   * times in a run (one executable under three pids) reaches the CP as three occurrences of one group.
   */
  admit(finding: EventBody, thisRun?: Set<string>): boolean;
  /** Writes the memory atomically (mode 0600), without expired entries. */
  save(): void;
}

const stateSchema = z.object({ version: z.literal(1), emitted: z.record(z.string(), z.number()) });

/**
 * Local dedup of findings (SPEC §4, `dedupeTtl`): a fingerprint already emitted by this host within `ttlMs` is not
 * emitted again; after the TTL it is, and the clock restarts. State lives in `file`; a corrupt file starts empty.
 * Findings that do not validate are always admitted: the CP rejects them and says why.
 */
export function createLocalDedup(file: string, options: LocalDedupOptions): LocalDedup {
  const emitted = load(file);
  const maxEntries = options.maxEntries ?? MAX_DEDUP_ENTRIES;
  let dirty = false;
  return {
    admit(finding, thisRun) {
      if (options.ttlMs <= 0) return true;
      const parsed = findingFieldsSchema.safeParse(finding);
      if (!parsed.success) return true;
      const fingerprint = fingerprintFinding(parsed.data);
      if (thisRun?.has(fingerprint)) return true;
      const now = options.now();
      const first = emitted.get(fingerprint);
      if (first !== undefined && now - first < options.ttlMs && now >= first) return false;
      emitted.delete(fingerprint); // re-insert: the Map's order stays oldest first
      emitted.set(fingerprint, now);
      thisRun?.add(fingerprint);
      dirty = true;
      return true;
    },
    save() {
      const now = options.now();
      for (const [fingerprint, at] of emitted) {
        if (now - at >= options.ttlMs) {
          emitted.delete(fingerprint);
          dirty = true;
        }
      }
      for (const fingerprint of emitted.keys()) {
        if (emitted.size <= maxEntries) break;
        emitted.delete(fingerprint);
        dirty = true;
      }
      if (!dirty) return;
      writeFileAtomic(file, `${JSON.stringify({ version: 1, emitted: Object.fromEntries(emitted) })}\n`, 0o600);
      dirty = false;
    },
  };
}

/** The remembered fingerprints, oldest first; empty when the file is missing or corrupt. */
function load(file: string): Map<string, number> {
  try {
    const parsed = stateSchema.safeParse(JSON.parse(readFileIfExists(file) ?? 'null'));
    if (!parsed.success) return new Map();
    return new Map(Object.entries(parsed.data.emitted).sort((a, b) => a[1] - b[1]));
  } catch {
    return new Map(); // unreadable or not JSON: forgetting only means a finding may be emitted once more
  }
}
