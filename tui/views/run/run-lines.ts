import type { OrchestrationRunView, StepView } from '../../../src/protocol/orchestration-api.js';
import { formatAge, formatTime, sanitize, truncate } from '../../components/text.js';
import { palette, statusStyle, type Palette } from '../../theme.js';
import { wrap } from '../finding/finding-rows.js';
import { hostDot, hostProgress, inlineValue, progressBar, stepDuration, triggerText, type RunCursor } from './run-rows.js';

/** A piece of a line with its look. Text is sanitized when the line is built. */
export interface Seg {
  text: string;
  color?: string | undefined;
  bold?: boolean;
  inverse?: boolean;
}

/** A line of segments; `cursor` marks the line of the selected step host. */
export interface RunLine {
  segs: Seg[];
  cursor?: boolean;
}

const seg = (text: string, color?: string, bold?: boolean): Seg => ({ text: sanitize(text), color, ...(bold === true && { bold }) });
const INDENT = '    ';
/** Dot lines a fan-out step shows at most (then `+N more`). */
export const MAX_DOT_LINES = 3;
/** Failed hosts listed under a fan-out step at most. */
export const MAX_FAILED = 5;

/** The run's header lines: name, state, who triggered it and when; its trigger fields; its error. */
export function headerLines(run: OrchestrationRunView, width: number, now: number, p: Palette = palette): RunLine[] {
  const st = statusStyle(run.status, p);
  const when = `started ${formatTime(run.created_at, now)} (${formatAge(now - run.created_at)} ago)${run.ended_at !== null ? ` · ended ${formatTime(run.ended_at, now)}` : ''}`;
  const lines: RunLine[] = [
    { segs: [seg(run.name, undefined, true), seg('  '), seg(`${st.glyph} ${st.word}`, st.color, true), seg(`  by ${run.triggered_by} · ${when}`, p.muted)] },
    { segs: [seg('trigger  ', p.muted), seg(truncate(sanitize(triggerText(run.trigger)), Math.max(10, width - 9)))] },
  ];
  if (run.error !== null) lines.push({ segs: [seg(`✗ ${run.error}`, p.error)] });
  return lines;
}

/** The hosts' dots of a fan-out step, wrapped to `width`, the cursor's host drawn inverse. */
function dotLines(s: StepView, selectedHost: number | null, width: number, p: Palette): RunLine[] {
  const perLine = Math.max(10, width - INDENT.length);
  const lines: RunLine[] = [];
  const room = perLine * MAX_DOT_LINES;
  // When they do not all fit, leave room on the last line for ` +N more`.
  const shown = s.hosts.length <= room ? s.hosts.length : room - ` +${s.hosts.length} more`.length;
  for (let start = 0; start < shown; start += perLine) {
    const segs: Seg[] = [{ text: INDENT }];
    for (let i = start; i < Math.min(shown, start + perLine); i++) {
      const dot = hostDot(s.hosts[i]!.status, p);
      const last = segs[segs.length - 1]!;
      const selected = i === selectedHost;
      // Consecutive dots of one colour share a segment; the selected one stands alone, inverse.
      if (!selected && last.inverse !== true && last.color === dot.color && last.text !== INDENT) last.text += dot.glyph;
      else segs.push({ text: dot.glyph, color: dot.color, ...(selected && { inverse: true }) });
    }
    lines.push({ segs });
  }
  if (s.hosts.length > shown) lines[lines.length - 1]!.segs.push(seg(` +${s.hosts.length - shown} more`, p.muted));
  return lines;
}

/** The lines of one step: its state, agent and time; then its hosts (one line, or dots + bar + failures) or its approval. */
export function stepLines(s: StepView, cursor: RunCursor | undefined, stepIndex: number, width: number, now: number, p: Palette = palette): RunLine[] {
  const st = statusStyle(s.status, p);
  const duration = stepDuration(s, now);
  const onStep = cursor?.step === stepIndex;
  const lines: RunLine[] = [
    {
      segs: [seg(`${st.glyph} `, st.color), seg(s.id, undefined, true), seg(`  ${s.agent}  `, p.muted), seg(st.word, st.color), seg(duration !== undefined ? `  ${formatAge(duration)}` : '', p.muted)],
      ...(onStep && cursor?.host === null && { cursor: true }),
    },
  ];
  if (s.error !== null) lines.push({ segs: [seg(`${INDENT}✗ ${truncate(sanitize(s.error), width - 6)}`, p.error)] });
  if (s.status === 'waiting_approval') lines.push(...approvalLines(s, width, p));
  if (s.hosts.length === 1 || (s.hosts.length > 1 && s.hosts.length <= 3)) {
    s.hosts.forEach((h, i) => lines.push(hostLine(h, onStep && cursor?.host === i, width, p)));
  } else if (s.hosts.length > 3) {
    const selected = onStep ? cursor?.host ?? null : null;
    lines.push(...dotLines(s, selected, width, p));
    const { done, failed, total } = hostProgress(s.hosts);
    lines.push({ segs: [seg(INDENT), seg(progressBar(done, total, 10), failed > 0 ? p.warn : p.ok), seg(failed > 0 ? `  ${failed} failed` : '', p.error)] });
    const failures = s.hosts.filter((h) => h.status === 'failed');
    for (const h of failures.slice(0, MAX_FAILED)) {
      lines.push({ segs: [seg(`${INDENT}✗ `, p.error), seg(h.host, undefined, true), seg(`  ${truncate(sanitize(h.error ?? 'failed'), Math.max(10, width - 8 - h.host.length))}`, p.error)] });
    }
    if (failures.length > MAX_FAILED) lines.push({ segs: [seg(`${INDENT}  +${failures.length - MAX_FAILED} more failed`, p.muted)] });
    if (selected !== null && s.hosts[selected] !== undefined) lines.push(hostLine(s.hosts[selected], true, width, p));
  }
  return lines;
}

/** One host of a step: dot, name, state, run id, findings, error. */
function hostLine(h: StepView['hosts'][number], isCursor: boolean, width: number, p: Palette): RunLine {
  const dot = hostDot(h.status, p);
  const tail = `${h.run_id ?? 'not dispatched'}${h.findings > 0 ? ` · ${h.findings} findings` : ''}${h.error !== null ? ` · ${h.error}` : ''}`;
  return {
    segs: [seg(INDENT), seg(`${dot.glyph} `, dot.color), seg(h.host, undefined, true), seg(` ${h.status}  `, dot.color), seg(truncate(sanitize(tail), Math.max(10, width - 16 - h.host.length)), h.error !== null ? p.error : p.muted)],
    ...(isCursor && { cursor: true }),
  };
}

/** What an approver approves: the rendered prompt (wrapped), the inputs and the targets. */
function approvalLines(s: StepView, width: number, p: Palette): RunLine[] {
  const room = Math.max(10, width - INDENT.length - 9);
  const lines: RunLine[] = [{ segs: [seg(`${INDENT}waiting for approval: a approve · r reject`, p.warn, true)] }];
  const field = (label: string, text: string): void => {
    wrap(text, room).forEach((t, i) => lines.push({ segs: [seg(`${INDENT}${i === 0 ? label.padEnd(9) : ' '.repeat(9)}`, p.muted), seg(t)] }));
  };
  field('prompt', s.prompt ?? '(none)');
  const inputs = Object.entries(s.inputs ?? {});
  field('inputs', inputs.length === 0 ? '-' : inputs.map(([k, v]) => `${k}=${inlineValue(v)}`).join(' '));
  const t = s.targets;
  field('targets', t === undefined || t === null ? '(not reported by this CP)' : t.kind === 'hosts' ? t.hosts.join(', ') : t.selector);
  return lines;
}
