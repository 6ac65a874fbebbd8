import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

const maps = new Map<string, SourceMap | null>();
function mapFor(url: string): SourceMap | null {
  if (!maps.has(url)) {
    let map: SourceMap | null = null;
    try {
      const file = url.startsWith('file:') ? fileURLToPath(url) : url;
      if (existsSync(`${file}.map`)) map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]);
    } catch {
      map = null;
    }
    maps.set(url, map);
  }
  return maps.get(url) ?? null;
}

/** `name (source:line)` of a profile frame, through the bundle's source map when there is one (dist/*.js.map). */
function place(frame: ProfileNode['callFrame']): string {
  const name = frame.functionName || '(anonymous)';
  const map = frame.url ? mapFor(frame.url) : null;
  const entry = map?.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string; originalLine?: number } | undefined;
  if (entry?.originalSource) return `${name} (${entry.originalSource.replace(/^(\.\.\/)+/, '').replace(/^node_modules\//, '')}:${(entry.originalLine ?? 0) + 1})`;
  const file = frame.url.split('/').slice(-2).join('/');
  return `${name}${file ? ` (${file}:${frame.lineNumber + 1})` : ''}`;
}

/**
 * The `top` functions by self time, and by total time (self + callees), in the `.cpuprofile` files of `dir`, idle
 * excluded, with bundle positions mapped to the TypeScript / package sources: `name (source:line) N %` of busy samples.
 */
export function profileSummary(dir: string, top = 10): { self: string[]; total: string[] } {
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let busy = 0;
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { nodes: ProfileNode[] };
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    for (const n of profile.nodes) {
      const hits = n.hitCount ?? 0;
      if (hits === 0 || n.callFrame.functionName === '(idle)') continue;
      busy += hits;
      const key = place(n.callFrame);
      self.set(key, (self.get(key) ?? 0) + hits);
      // Total time: each function on the stack once per sample (recursion counted once).
      const seen = new Set<string>();
      for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
        const frame = byId.get(id)?.callFrame;
        if (!frame || frame.functionName === '(root)') continue;
        const k = place(frame);
        if (seen.has(k)) continue;
        seen.add(k);
        total.set(k, (total.get(k) ?? 0) + hits);
      }
    }
  }
  const fmt = (m: Map<string, number>): string[] =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => `${k} ${((v / busy) * 100).toFixed(1)} %`);
  return { self: fmt(self), total: fmt(total) };
}
