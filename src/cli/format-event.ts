import type { EventBody } from '../protocol/event.js';
import { formatClock } from './format.js';
import { toned } from './output.js';
import type { Span, Tone } from './output.js';

const SEVERITY_TONE: Record<string, Tone> = { CRITICAL: 'critical', HIGH: 'high', MEDIUM: 'medium', LOW: 'low', INFO: 'info' };

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v));
const oneLine = (text: string, max = 160): string => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};
const size = (bytes: unknown): string => {
  const n = typeof bytes === 'number' ? bytes : 0;
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`;
};

/**
 * One human line for a run event (`okesu agents run --local` without --json), as spans: time, kind, the gist. Host
 * text is flattened to one line here; the output layer shows its control characters as escapes.
 */
export function formatRunEvent(event: EventBody & { ts?: number }): Span[] {
  const at = typeof event.ts === 'number' ? `${formatClock(event.ts)} ` : '';
  const e = event as Record<string, unknown>;
  switch (event.type) {
    case 'run_start':
      return [`${at}run ${str(e.run_id)} of ${str(e.agent)} ${str(e.version)}`.trimEnd()];
    case 'tick_start':
      return [`${at}tick ${str(e.tick)}`];
    case 'collector_result': {
      const reason = oneLine(str(e.skip_reason));
      const how = e.skipped ? toned(/^skipped\b/i.test(reason) ? reason : `skipped${reason ? `: ${reason}` : ''}`, 'muted')
        : e.error ? toned(`failed: ${oneLine(str(e.error))}`, 'error')
        : `${size(e.bytes)}${e.truncated ? ' (truncated)' : ''}`;
      return [`${at}collector ${str(e.name)}: `, how, ` in ${str(e.duration_ms)} ms`];
    }
    case 'finding': {
      const severity = str(e.severity).toUpperCase();
      const resource = e.resource ? `  ${oneLine(str(e.resource), 80)}` : '';
      return [at, toned(`finding ${severity}`, SEVERITY_TONE[severity]), ` ${oneLine(str(e.title), 120)}${resource}`];
    }
    case 'text':
      return [`${at}text: ${oneLine(str(e.text))}`];
    case 'tool_call':
      return [`${at}→ ${str(e.tool)} ${oneLine(JSON.stringify(e.input ?? {}), 120)}`];
    case 'tool_result':
      return [`${at}← ${str(e.tool)} ${size(Buffer.byteLength(str(e.output)))}${e.truncated ? ' (truncated)' : ''}`, e.is_error ? toned(' error', 'error') : ''];
    case 'action_denied':
      return [at, toned(`denied ${str(e.tool)}`, 'warn'), ` (${str(e.by)}): ${oneLine(str(e.reason))}`];
    case 'api_unavailable':
      return [at, toned(`api unavailable (${str(e.provider)})`, 'warn'), `: ${oneLine(str(e.error))}${e.status ? ` [${str(e.status)}]` : ''}`];
    case 'orchestration_result':
      return [`${at}result: ${oneLine(JSON.stringify(e.attributes ?? {}), 200)}`];
    case 'error':
      return [at, toned('error', 'error'), `: ${oneLine(str(e.message))}`];
    case 'findings_suppressed': {
      const by = Array.isArray(e.by) ? (e.by as Record<string, unknown>[]) : [];
      const entries = by.map((b) => `${str(b.count)} by suppress[${str(b.entry)}] (${str(b.at)}): ${oneLine(str(b.reason), 60)}`).join('; ');
      return [at, toned(`suppressed ${str(e.count)} findings`, 'muted'), entries ? `: ${entries}` : ''];
    }
    case 'tick_done':
      return [`${at}tick ${str(e.tick)} done: ${str(e.findings)} findings`];
    case 'run_end': {
      const status = str(e.status);
      const tone: Tone = status === 'completed' ? 'ok' : 'error';
      const usage = e.usage as { input_tokens?: number; output_tokens?: number } | undefined;
      const tokens = usage ? `, ${usage.input_tokens ?? 0}+${usage.output_tokens ?? 0} tokens` : '';
      return [`${at}run `, toned(status, tone), ` in ${str(e.duration_ms)} ms, ${str(e.findings)} findings${tokens}${e.error ? `: ${oneLine(str(e.error))}` : ''}`];
    }
    default:
      return [`${at}${event.type}`];
  }
}
