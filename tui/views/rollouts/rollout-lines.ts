import { ROLLOUT_HOST_STATES, type RolloutHostState, type RolloutView } from '../../../src/protocol/rollout.js';
import { formatAge, formatTime, sanitize, truncate } from '../../components/text.js';
import { GLYPHS, palette, type Palette } from '../../theme.js';
import { progressBar } from '../run/run-rows.js';
import type { RunLine, Seg } from '../run/run-lines.js';

const INDENT = '    ';
/** Dot lines a rollout shows at most (then `+N more`). */
export const MAX_DOT_LINES = 3;

const seg = (text: string, color?: string, bold?: boolean): Seg => ({ text: sanitize(text), color, ...(bold === true && { bold }) });

/**
 * A host's dot in a rollout, like a fan-out step's: healthy ●, on its way … (downloading to restarting), not yet
 * ordered ◌, rolled back ↺, failed ✗. The glyph alone tells them apart without colour.
 */
export function rolloutDot(state: RolloutHostState, p: Palette = palette): { glyph: string; color: string | undefined } {
  switch (state) {
    case 'healthy':
      return { glyph: '●', color: p.ok };
    case 'failed':
      return { glyph: GLYPHS.failed, color: p.error };
    case 'rolled_back':
      return { glyph: '↺', color: p.warn };
    case 'pending':
      return { glyph: '◌', color: p.muted };
    case 'downloading':
    case 'verifying':
    case 'staged':
    case 'restarting':
      return { glyph: GLYPHS.running, color: p.pending };
  }
}

/** A rollout's own state: its glyph, colour and word. */
function rolloutStyle(state: RolloutView['state'], p: Palette): { glyph: string; color: string | undefined } {
  switch (state) {
    case 'running':
      return { glyph: GLYPHS.running, color: p.pending };
    case 'completed':
      return { glyph: GLYPHS.ok, color: p.ok };
    case 'halted':
      return { glyph: GLYPHS.waiting, color: p.error };
    case 'cancelled':
      return { glyph: GLYPHS.cancelled, color: p.muted };
  }
}

/** Each host's state in batch order: from the hosts when all are known, else spelled out from the counts. */
export function hostStates(r: RolloutView): RolloutHostState[] {
  const total = ROLLOUT_HOST_STATES.reduce((n, s) => n + (r.counts[s] ?? 0), 0);
  if (r.hosts !== undefined && r.hosts.length === total) return [...r.hosts].sort((a, b) => a.batch - b.batch || a.hostname.localeCompare(b.hostname)).map((h) => h.state);
  return ROLLOUT_HOST_STATES.flatMap((s) => Array<RolloutHostState>(r.counts[s] ?? 0).fill(s));
}

/** The dots of every host, wrapped to `width`; same-coloured neighbours share a segment. */
function dotLines(states: readonly RolloutHostState[], width: number, p: Palette): RunLine[] {
  const perLine = Math.max(10, width - INDENT.length);
  const room = perLine * MAX_DOT_LINES;
  const shown = states.length <= room ? states.length : room - ` +${states.length} more`.length;
  const lines: RunLine[] = [];
  for (let start = 0; start < shown; start += perLine) {
    const segs: Seg[] = [{ text: INDENT }];
    for (let i = start; i < Math.min(shown, start + perLine); i++) {
      const dot = rolloutDot(states[i] as RolloutHostState, p);
      const last = segs[segs.length - 1] as Seg;
      if (last.text !== INDENT && last.color === dot.color) last.text += dot.glyph;
      else segs.push({ text: dot.glyph, color: dot.color });
    }
    lines.push({ segs });
  }
  if (states.length > shown) (lines[lines.length - 1] as RunLine).segs.push(seg(` +${states.length - shown} more`, p.muted));
  return lines;
}

/**
 * The lines of one rollout: its id, version, state, who and when (the cursor line when selected); one dot per host;
 * a progress bar with the count of each state present; why it halted.
 */
export function rolloutLines(r: RolloutView, selected: boolean, width: number, now: number, p: Palette = palette): RunLine[] {
  const st = rolloutStyle(r.state, p);
  const when = `${formatTime(r.created_at, now)} (${formatAge(now - r.created_at)} ago)`;
  const lines: RunLine[] = [
    {
      segs: [seg(`${st.glyph} `, st.color), seg(r.rollout_id, undefined, true), seg(`  ${r.version}  `), seg(r.state, st.color, true), seg(`  by ${r.created_by} · ${when}`, p.muted)],
      ...(selected && { cursor: true }),
    },
  ];
  const states = hostStates(r);
  lines.push(...dotLines(states, width, p));
  const done = states.filter((s) => s === 'healthy' || s === 'failed' || s === 'rolled_back').length;
  const bad = (r.counts.failed ?? 0) + (r.counts.rolled_back ?? 0);
  const counts: Seg[] = ROLLOUT_HOST_STATES.filter((s) => (r.counts[s] ?? 0) > 0).flatMap((s, i) => [
    seg(i === 0 ? '  ' : ' · ', p.muted),
    seg(`${s} ${r.counts[s]}`, rolloutDot(s, p).color),
  ]);
  lines.push({ segs: [seg(INDENT), seg(progressBar(done, states.length, 10), bad > 0 ? p.warn : p.ok), ...counts] });
  if (r.halted_reason !== null) lines.push({ segs: [seg(`${INDENT}✗ halted: ${truncate(sanitize(r.halted_reason), Math.max(10, width - 16))}`, p.error)] });
  return lines;
}
