import { RUN_ID_RE } from './ids.js';
import { LIMITS } from './limits.js';
import type { RecordKey } from './tunnel.js';

/** An `ack` frame as `cpFrameSchema` returns it. */
export interface AckFrame {
  type: 'ack';
  records: RecordKey[];
}

/** True when `value`'s own enumerable keys are exactly `a` then `b`. */
function keysAre(value: object, a: string, b: string): boolean {
  let i = 0;
  for (const key in value) {
    if ((i === 0 && key !== a) || (i === 1 && key !== b) || i > 1) return false;
    i++;
  }
  return i === 2;
}

const isPlain = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

/**
 * `cpFrameSchema`'s output for an `ack` frame in exactly the shape the CP sends (`{type, records: [{run_id, seq}]}`,
 * no other keys, every run id and seq valid): the parsed value itself, which has the same keys in the same order as
 * the schema's copy. Undefined for anything else, which the schema then decides. The daimon reads an ack for every
 * batch it sends; zod on each was ~8 % of its CPU at 10,000 findings/s. Kept equal to the schema by
 * test/protocol/tunnel-fast-path.test.ts.
 */
export function wellFormedAckFrame(value: unknown): AckFrame | undefined {
  if (!isPlain(value) || value['type'] !== 'ack' || !keysAre(value, 'type', 'records')) return undefined;
  const records = value['records'];
  if (!Array.isArray(records) || records.length > LIMITS.recordsPerFrame) return undefined;
  for (const r of records as unknown[]) {
    if (!isPlain(r) || !keysAre(r, 'run_id', 'seq')) return undefined;
    const { run_id: runId, seq } = r;
    if (typeof runId !== 'string' || !RUN_ID_RE.test(runId) || typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return undefined;
  }
  return value as unknown as AckFrame;
}
