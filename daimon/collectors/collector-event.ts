import type { EventBody } from '../../src/protocol/event.js';
import type { CollectorSpec } from '../../src/specs/agent-spec.js';
import type { CollectorOutput } from '../provider.js';

/** Most output bytes copied into a `collector_result` event (for `emit_output` collectors). */
export const MAX_EMITTED_OUTPUT_BYTES = 64 * 1024;

/**
 * The `collector_result` event of one collector: size, duration, exit code, whether it was cut, skipped (and why)
 * or failed, whether it was optional, and — only with `emit_output` — the output itself, capped to 64 KB.
 */
export function collectorResultEvent(output: CollectorOutput, spec: CollectorSpec): EventBody {
  return {
    type: 'collector_result',
    name: output.name,
    bytes: Buffer.byteLength(output.output, 'utf8'),
    duration_ms: output.durationMs,
    exit_code: output.exitCode,
    truncated: output.truncated,
    ...(output.skipped && { skipped: true, ...(output.skipReason !== undefined && { skip_reason: output.skipReason }) }),
    ...(output.error !== undefined && { error: output.error }),
    optional: spec.optional,
    ...(spec.emitOutput && { output: capOutput(output.output) }),
  };
}

/** The output cut to 64 KB on a character boundary, with a note of how much was left out. */
function capOutput(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= MAX_EMITTED_OUTPUT_BYTES) return text;
  // Back off to the start of a UTF-8 sequence so no character is cut in half.
  let end = MAX_EMITTED_OUTPUT_BYTES;
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--;
  return `${bytes.subarray(0, end).toString('utf8')}\n[okesu: output cut at ${end} of ${bytes.length} bytes]`;
}
