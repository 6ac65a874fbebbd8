import type { RunEvent } from '../../../src/protocol/event.js';
import { formatTime, sanitize } from '../../components/text.js';
import { palette, severityStyle, type Palette } from '../../theme.js';
import { SEVERITIES, type Severity } from '../../../src/protocol/finding.js';

/** One transcript line: time, seq, event type and what it says. */
export interface TranscriptLine {
  key: string;
  time: string;
  type: string;
  text: string;
  color: string | undefined;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v) ?? '');
const oneLine = (v: unknown): string => sanitize(str(v));

/** What an event says in a few words, by type; unknown types show their fields (without the stamp) as JSON. */
export function describeEvent(e: RunEvent, p: Palette = palette): { text: string; color: string | undefined } {
  switch (e.type) {
    case 'run_start': return { text: `${oneLine(e.agent)} ${oneLine(e.version)}${e.prompt ? ` — ${oneLine(e.prompt)}` : ''}`, color: p.muted };
    case 'text': return { text: oneLine(e.text), color: undefined };
    case 'tool_call': return { text: `${oneLine(e.tool)} ${oneLine(e.input)}`, color: p.accent };
    case 'tool_result': return { text: `${oneLine(e.tool)} → ${oneLine(e.output)}`, color: e.is_error === true ? p.error : p.muted };
    case 'collector_result': {
      const how = e.skipped === true ? `skipped${e.skip_reason ? ` (${oneLine(e.skip_reason)})` : ''}` : e.error ? `error ${oneLine(e.error)}` : `exit ${str(e.exit_code)}, ${str(e.bytes)} bytes`;
      return { text: `${oneLine(e.name)}: ${how}`, color: e.error ? p.error : p.muted };
    }
    case 'finding': {
      const sev = typeof e.severity === 'string' && (SEVERITIES as readonly string[]).includes(e.severity.toUpperCase()) ? severityStyle(e.severity.toUpperCase() as Severity, p) : undefined;
      return { text: `${sev ? `${sev.glyph} ${sev.word} ` : ''}${oneLine(e.title)}`, color: sev?.color };
    }
    case 'action_denied': return { text: `${oneLine(e.tool)} denied by ${oneLine(e.by)}: ${oneLine(e.reason)}`, color: p.warn };
    case 'api_unavailable': return { text: `${oneLine(e.provider)}: ${oneLine(e.error)}`, color: p.error };
    case 'error': return { text: `${oneLine(e.code)} ${oneLine(e.message)}`, color: p.error };
    case 'run_end': {
      const ok = e.status === 'completed';
      return { text: `${oneLine(e.status)}${e.findings !== undefined ? ` · ${str(e.findings)} findings` : ''}${e.error ? ` · ${oneLine(e.error)}` : ''}`, color: ok ? p.ok : p.error };
    }
    default: {
      const { type: _t, ts: _ts, host: _h, agent: _a, run_id: _r, seq: _s, ...rest } = e;
      return { text: oneLine(rest), color: p.muted };
    }
  }
}

/** The newest `count` events as lines, oldest first (newest at the bottom). */
export function transcriptLines(events: readonly RunEvent[], count: number, now: number, p: Palette = palette): TranscriptLine[] {
  return events.slice(Math.max(0, events.length - Math.max(0, count))).map((e) => {
    const { text, color } = describeEvent(e, p);
    return { key: `${e.run_id}:${e.seq}`, time: formatTime(e.ts, now), type: sanitize(e.type), text, color };
  });
}
