import { describe, expect, it } from 'vitest';
import type { CollectorSpec } from '../../../src/specs/agent-spec.js';
import { MAX_EMITTED_OUTPUT_BYTES, collectorResultEvent } from '../../../daimon/collectors/collector-event.js';
import type { CollectorResult } from '../../../daimon/collectors/run-collectors.js';

const spec = (fields: Partial<CollectorSpec> = {}): CollectorSpec => ({ name: 'ps', command: 'ps', timeoutMs: 1000, optional: false, emitOutput: false, ...fields });
const output = (fields: Partial<CollectorResult> = {}): CollectorResult => ({
  name: 'ps', output: 'héllo\n', exitCode: 0, durationMs: 12, truncated: false, skipped: false, ...fields,
});

describe('collectorResultEvent', () => {
  it('describes a success without the output by default', () => {
    expect(collectorResultEvent(output(), spec())).toEqual({
      type: 'collector_result', name: 'ps', bytes: 7, duration_ms: 12, exit_code: 0, truncated: false, optional: false,
    });
  });

  it('says why a collector was skipped', () => {
    expect(collectorResultEvent(output({ output: '', exitCode: 77, skipped: true, skipReason: 'ss is not installed' }), spec())).toMatchObject({
      skipped: true, skip_reason: 'ss is not installed', exit_code: 77,
    });
  });

  it('reports the failure of an optional collector as such', () => {
    const event = collectorResultEvent(output({ exitCode: 2, error: 'exit code 2: nope' }), spec({ optional: true }));
    expect(event).toMatchObject({ error: 'exit code 2: nope', optional: true, exit_code: 2 });
    expect(event).not.toHaveProperty('skipped');
  });

  it('copies the output with emit_output, capped at 64 KB on a character boundary with a note', () => {
    expect(collectorResultEvent(output(), spec({ emitOutput: true })).output).toBe('héllo\n');
    const big = `a${'é'.repeat(MAX_EMITTED_OUTPUT_BYTES)}`; // 'é' is two bytes: the cap falls inside one
    const copied = String(collectorResultEvent(output({ output: big }), spec({ emitOutput: true })).output);
    const [kept, note] = copied.split('\n');
    expect(Buffer.byteLength(kept ?? '')).toBe(MAX_EMITTED_OUTPUT_BYTES - 1);
    expect(kept?.endsWith('é')).toBe(true);
    expect(note).toBe(`[okesu: output cut at ${MAX_EMITTED_OUTPUT_BYTES - 1} of ${Buffer.byteLength(big)} bytes]`);
  });
});
