import { checkTypedEvent, describeIssues, safeParseEventBody } from '../../src/protocol/event.js';
import type { EventBody } from '../../src/protocol/event.js';
import { cutUtf8 } from './line-splitter.js';
import type { CappedLine } from './line-splitter.js';

/** Types only the daimon may emit; an executable's own are relayed as `provider_<type>` so they stay in the transcript. */
export const RESERVED_EVENT_TYPES: ReadonlySet<string> = new Set(['run_start', 'run_end', 'tick_start', 'tick_done', 'spool_full']);

/** How much of an invalid line an error event quotes. */
export const RAW_QUOTE_BYTES = 4096;

/**
 * Turns one stdout line of a custom provider into an event: a JSON object with a `type` is an event
 * (validated: an invalid one becomes an `error` event quoting the line, never dropped); anything else
 * is `text`. `lineNo` is the 1-based line number on stdout, for the error message.
 */
export function stdoutLineToEvent(line: CappedLine, lineNo: number): EventBody {
  if (line.truncated) return { type: 'text', text: line.text, truncated: true };
  const value = parseJsonObject(line.text);
  if (value === undefined) return { type: 'text', text: line.text };
  const parsed = safeParseEventBody(value);
  if (!parsed.success) return invalid(line.text, lineNo, describeIssues(parsed.error));
  const body = RESERVED_EVENT_TYPES.has(parsed.data.type) ? { ...parsed.data, type: `provider_${parsed.data.type}` } : parsed.data;
  const problem = checkTypedEvent(body);
  return problem === undefined ? body : invalid(line.text, lineNo, problem);
}

/** Turns one stderr line into a `text` event on the `stderr` stream. */
export function stderrLineToEvent(line: CappedLine): EventBody {
  return { type: 'text', stream: 'stderr', text: line.text, ...(line.truncated && { truncated: true }) };
}

function invalid(text: string, lineNo: number, problem: string): EventBody {
  return {
    type: 'error',
    code: 'OKS_ERR_EVENT_INVALID',
    message: `stdout line ${lineNo}: ${problem}`,
    raw: cutUtf8(Buffer.from(text, 'utf8'), RAW_QUOTE_BYTES).toString('utf8'),
  };
}

/** The line as a JSON object, or undefined when it is not one (plain text, a JSON string, a number, an array). */
function parseJsonObject(text: string): Record<string, unknown> | undefined {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(trimmed);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
