import type { HostView } from '../../src/protocol/api.js';
import { SEVERITIES, type Severity } from '../../src/protocol/finding.js';
import type { ConnectionInfo } from '../store/state.js';
import { hostStateStyle, palette, severityStyle, type Palette } from '../theme.js';
import { sanitize, textWidth } from './text.js';

/** A piece of the header: text, maybe coloured. */
export interface Part {
  text: string;
  color?: string | undefined;
  bold?: boolean;
}

/**
 * The connection as the header says it: `connected`; `connecting…` until the stream first opens; `reconnecting…`
 * after it fell (the client retries by itself); `disconnected` while closed. With the last error when there is one.
 */
export function connectionPart(c: ConnectionInfo, p: Palette = palette): Part {
  const why = c.detail !== null && c.detail !== '' ? ` (${sanitize(c.detail)})` : '';
  if (c.state === 'open') return { text: '● connected', color: p.ok };
  if (c.state === 'connecting' && c.reconnects === 0) return { text: `◌ connecting…${why}`, color: p.pending };
  if (c.state === 'connecting') return { text: `◐ reconnecting…${why}`, color: p.warn };
  return { text: `○ disconnected${why} — reconnecting…`, color: p.error };
}

/** Hosts per liveness state (one pass over the map). */
export function countHosts(hosts: ReadonlyMap<string, HostView>): Record<HostView['state'], number> {
  const n = { online: 0, stale: 0, offline: 0 };
  for (const h of hosts.values()) n[h.state] += 1;
  return n;
}

/**
 * `● 12 online  ◐ 1 stale  ○ 0 offline`; glyph and count tight when `compact`; without the words when `bare` (the
 * three glyphs differ in shape, so it still reads without colour).
 */
export function hostParts(n: Record<HostView['state'], number>, compact: boolean, p: Palette = palette, bare = false): Part[] {
  const gap = compact ? '' : ' ';
  return (['online', 'stale', 'offline'] as const).map((state) => {
    const s = hostStateStyle(state, p);
    return { text: `${s.glyph}${gap}${n[state]}${bare ? '' : ` ${s.word}`}`, color: s.color };
  });
}

/** Columns a line of parts takes with `sep` between them. */
export function partsWidth(parts: readonly Part[], sep: string): number {
  return parts.reduce((w, part, i) => w + textWidth(part.text) + (i > 0 ? sep.length : 0), 0);
}

/** Open findings per severity: `◆ 0 CRIT  ▲ 2 HIGH …`. */
export function severityParts(open: Readonly<Record<string, number>>, compact: boolean, p: Palette = palette): Part[] {
  const gap = compact ? '' : ' ';
  return SEVERITIES.map((sev: Severity) => {
    const s = severityStyle(sev, p);
    const count = open[sev] ?? 0;
    return { text: `${s.glyph}${gap}${count} ${s.word}`, color: count > 0 ? s.color : p.muted };
  });
}
